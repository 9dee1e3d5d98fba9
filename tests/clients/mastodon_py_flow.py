"""Drives Herald with Mastodon.py, unmodified, as a Mastodon app would. Prints what it
saw as one JSON object.

    mastodon_py_flow.py post BASE_URL CHANNEL_API_TOKEN IMAGE_FILE
        Registers an app, opens the authorization page with a PKCE S256 challenge,
        consents there with an API token of the channel (the form a person fills in),
        trades the code and its verifier for an access token, reads the account and the
        instance; uploads an image with alt text, posts with it, reads, edits, pins,
        schedules, reschedules, changes the profile, deletes a second post.

    mastodon_py_flow.py notifications BASE_URL ACCESS_TOKEN CLIENT_ID CLIENT_SECRET
        Reads the notifications, then revokes the token and tries it again.

Mastodon.py has no PKCE of its own, so the challenge is added to the URL it makes and
the token request that carries the verifier is plain HTTP, as an app's would be.
"""

import base64
import hashlib
import json
import re
import secrets
import sys
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from urllib.parse import urlencode

import requests
from mastodon import Mastodon, MastodonAPIError

SCOPES = ["read", "write", "follow", "push"]
OOB = "urn:ietf:wg:oauth:2.0:oob"


class Form(HTMLParser):
    """The consent form's hidden fields."""

    def __init__(self):
        super().__init__()
        self.fields = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("type") == "hidden":
            self.fields[attrs["name"]] = attrs.get("value", "")


def sign_in(base, token):
    client_id, client_secret = Mastodon.create_app(
        "Herald test", api_base_url=base, scopes=SCOPES
    )
    app = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=base)
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        .rstrip(b"=")
        .decode()
    )
    url = app.auth_request_url(scopes=SCOPES, allow_http=True)
    url += "&" + urlencode({"code_challenge": challenge, "code_challenge_method": "S256"})
    page = requests.get(url, timeout=30)
    form = Form()
    form.feed(page.text)
    answer = requests.post(base + "/oauth/authorize", data=dict(form.fields, token=token), timeout=30)
    code = re.search(r'<code id="code">([^<]+)</code>', answer.text).group(1)
    granted = requests.post(
        base + "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": client_id,
            "redirect_uri": OOB,
            "code_verifier": verifier,
            "scope": " ".join(SCOPES),
        },
        timeout=30,
    ).json()
    out = {
        "authorize_page_status": page.status_code,
        "authorize_page_cookies": sorted(page.cookies.keys()),
        "consent_status": answer.status_code,
        "form_has_challenge": form.fields.get("code_challenge") == challenge,
        "granted_scope": granted.get("scope"),
        "client_id": client_id,
        "client_secret": client_secret,
    }
    # The same code again, through Mastodon.py's own log_in: refused.
    try:
        app.log_in(code=code, scopes=SCOPES, allow_http=True)
        out["reused_code"] = "accepted"
    except Exception as e:  # Mastodon.py wraps the OAuth error
        out["reused_code"] = str(e)
    access_token = granted["access_token"]
    app = Mastodon(
        client_id=client_id,
        client_secret=client_secret,
        access_token=access_token,
        api_base_url=base,
    )
    out["access_token"] = access_token
    return app, out


def post(base, token, image):
    app, out = sign_in(base, token)
    me = app.account_verify_credentials()
    instance = app.instance_v2()
    v1 = app.instance_v1()
    media = app.media_post(image, mime_type="image/jpeg", description="A rising chart")
    status = app.status_post(
        "Hello from **Mastodon.py** #herald", media_ids=[media.id], language="en"
    )
    fetched = app.status(status.id)
    edited = app.status_update(status.id, "Hello again from Mastodon.py #herald")
    source = app.status_source(status.id)
    later = app.status_post(
        "Later", scheduled_at=datetime.now(timezone.utc) + timedelta(hours=1)
    )
    scheduled = app.scheduled_statuses()
    home = app.timeline_home()
    pinned = app.status_pin(status.id)
    unpinned = app.status_unpin(status.id)
    history = app.status_history(status.id)
    account = app.account(me.id)
    account_statuses = app.account_statuses(me.id)
    moved = app.scheduled_status_update(
        later.id, datetime.now(timezone.utc) + timedelta(hours=2)
    )
    app.scheduled_status_delete(later.id)
    scheduled_after = app.scheduled_statuses()
    profile = app.account_update_credentials(
        display_name="News desk",
        note="Official *news*",
        fields=[("Site", "https://example.com")],
        avatar=image,
        avatar_mime_type="image/jpeg",
    )
    doomed = app.status_post("Delete me")
    deleted = app.status_delete(doomed.id)
    out.update(
        {
            "id": str(me.id),
            "acct": me.acct,
            "display_name": me.display_name,
            "source_note": me.source.note,
            "version": instance.version,
            "v1_version": v1.version,
            "max_characters": instance.configuration.statuses.max_characters,
            "max_media": instance.configuration.statuses.max_media_attachments,
            "media_alt": media.description,
            "status_id": str(status.id),
            "status_content": status.content,
            "status_alt": status.media_attachments[0].description,
            "status_tags": [t.name for t in status.tags],
            "fetched_id": str(fetched.id),
            "edited_content": edited.content,
            "edited_at": str(edited.edited_at),
            "edited_media": len(edited.media_attachments),
            "source_text": source.text,
            "scheduled_id": str(later.id),
            "scheduled_ids": [str(s.id) for s in scheduled],
            "home_ids": [str(s.id) for s in home],
            "pinned": pinned.pinned,
            "unpinned": unpinned.pinned,
            "history_len": len(history),
            "account_acct": account.acct,
            "account_status_ids": [str(s.id) for s in account_statuses],
            "rescheduled": str(moved.scheduled_at) != str(later.scheduled_at),
            "scheduled_after_delete": [str(s.id) for s in scheduled_after],
            "profile_name": profile.display_name,
            "profile_note_source": profile.source.note,
            "profile_fields": [f.name for f in profile.fields],
            "profile_avatar": profile.avatar,
            "deleted_id": str(doomed.id),
            "deleted_text": deleted.text,
        }
    )
    return out


def notifications(base, access_token, client_id, client_secret):
    app = Mastodon(
        client_id=client_id,
        client_secret=client_secret,
        access_token=access_token,
        api_base_url=base,
    )
    seen = app.notifications()
    out = {
        "notifications": [
            {
                "type": n.type,
                "acct": n.account.acct,
                "status_id": str(n.status.id) if n.get("status") else None,
            }
            for n in seen
        ]
    }
    app.revoke_access_token(allow_http=True)
    after = Mastodon(access_token=access_token, api_base_url=base)
    try:
        after.account_verify_credentials()
        out["after_revoke"] = "still valid"
    except MastodonAPIError as e:
        out["after_revoke"] = str(e)
    return out


def main():
    if sys.argv[1] == "post":
        out = post(*sys.argv[2:5])
    else:
        out = notifications(*sys.argv[2:6])
    print(json.dumps(out))


if __name__ == "__main__":
    main()
