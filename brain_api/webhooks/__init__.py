"""Webhook subscriptions: signed, retried, recorded deliveries of alerts to departments' endpoints.

`dispatcher` consumes `citybrain.alerts.v1` and fans out to one `worker` per subscription (so one dead
endpoint never delays the others); `repository` keeps subscriptions and every attempt in ClickHouse;
`signing` is what receivers need to verify us. Started by the API lifespan through `service`.
"""

from brain_api.webhooks.service import start_webhook_dispatcher, stop_webhook_dispatcher
from brain_api.webhooks.signing import sign, verify

__all__ = ["sign", "start_webhook_dispatcher", "stop_webhook_dispatcher", "verify"]
