"""Notifications and commit statuses (I/O adapter): tell people and forges about syncs.

Before: the controller emits :class:`~gitward.model.events.SyncEvent` values through its
listener seam. Here: :mod:`.config` reads which receivers get which apps' events,
:mod:`.payloads` builds each receiver's HTTP request (pure: generic JSON webhooks signed
with HMAC-SHA256, Slack messages, GitHub / GitLab / Gitea commit statuses), and
:mod:`.dispatch` delivers them from a bounded background queue with retries and
exponential backoff, so a slow or failing receiver never delays a sync.
"""

from gitward.notify.config import Delivery, NotifyConfig, Receiver, load_config
from gitward.notify.dispatch import Notifier, Outcome
from gitward.notify.payloads import sign

__all__ = ["Delivery", "Notifier", "NotifyConfig", "Outcome", "Receiver", "load_config", "sign"]
