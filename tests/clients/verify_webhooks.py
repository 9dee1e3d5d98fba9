"""Verifies webhook messages with the Standard Webhooks reference library (PyPI
`standardwebhooks`), as a receiver would: an implementation independent of Herald's.

    verify_webhooks.py < messages.json

reads `[{"secret": "whsec_…", "headers": {…}, "body": "…"}, …]` and prints one JSON
object: how many verified, and the error of each that did not. Exits non-zero if any
message fails to verify.
"""

import json
import sys

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

messages = json.load(sys.stdin)
verified = 0
errors = []
for message in messages:
    try:
        Webhook(message["secret"]).verify(message["body"], message["headers"])
        verified += 1
    except WebhookVerificationError as e:
        errors.append(str(e))
print(json.dumps({"verified": verified, "errors": errors}))
sys.exit(1 if errors else 0)
