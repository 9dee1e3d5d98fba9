"""Drives Herald with Mastodon.py, unmodified, as a Mastodon app would: registers an
app, opens the authorization page, consents there with an API token of the channel (the
form a person fills in), trades the code for an access token, reads the account and the
instance; uploads an image with alt text, posts with it, reads, edits, schedules and
deletes, pins, reschedules, changes the profile; then revokes the token. Prints what it saw as one JSON object.

Usage: python3 mastodon_py_flow.py BASE_URL CHANNEL_API_TOKEN IMAGE_FILE
"""

import json
import re
import sys
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser

import requests
from mastodon import Mastodon, MastodonAPIError

SCOPES = ["read", "write", "follow", "push"]


class Form(HTMLParser):
    """The consent form's hidden fields."""

    def __init__(self):
        super().__init__()
        self.fields = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("type") == "hidden":
            self.fields[attrs["name"]] = attrs.get("value", "")


def main():
    base, token, image = sys.argv[1], sys.argv[2], sys.argv[3]
    client_id, client_secret = Mastodon.create_app(
        "Herald test", api_base_url=base, scopes=SCOPES
    )
    app = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=base)
    url = app.auth_request_url(scopes=SCOPES, allow_http=True)
    page = requests.get(url, timeout=30)
    form = Form()
    form.feed(page.text)
    consent = dict(form.fields, token=token)
    answer = requests.post(base + "/oauth/authorize", data=consent, timeout=30)
    code = re.search(r'<code id="code">([^<]+)</code>', answer.text)
    out = {
        "authorize_page_status": page.status_code,
        "authorize_page_cookies": sorted(page.cookies.keys()),
        "consent_status": answer.status_code,
    }
    access_token = app.log_in(code=code.group(1), scopes=SCOPES, allow_http=True)
    me = app.account_verify_credentials()
    instance = app.instance_v2()
    v1 = app.instance_v1()
    out.update(
        {
            "access_token": access_token,
            "id": str(me.id),
            "acct": me.acct,
            "display_name": me.display_name,
            "source_note": me.source.note,
            "created_at": str(me.created_at),
            "version": instance.version,
            "v1_version": v1.version,
            "max_characters": instance.configuration.statuses.max_characters,
            "max_media": instance.configuration.statuses.max_media_attachments,
        }
    )
    # Publishing: an image with alt text, a post with it, an edit, a schedule, a delete.
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
    deleted = app.status_delete(status.id)
    out.update(
        {
            "media_id": str(media.id),
            "media_alt": media.description,
            "media_url": media.url,
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
            "deleted_text": deleted.text,
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
        }
    )
    # A reused code is refused by the token endpoint.
    try:
        app.log_in(code=code.group(1), scopes=SCOPES, allow_http=True)
        out["reused_code"] = "accepted"
    except Exception as e:  # Mastodon.py wraps the OAuth error
        out["reused_code"] = str(e)
    app.access_token = access_token
    app.revoke_access_token(allow_http=True)
    after = Mastodon(access_token=access_token, api_base_url=base)
    try:
        after.account_verify_credentials()
        out["after_revoke"] = "still valid"
    except MastodonAPIError as e:
        out["after_revoke"] = str(e)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
