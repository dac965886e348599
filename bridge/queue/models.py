"""The rows of the queue, as typed values."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

#: the store of events delivered to /webhook, the only store before there were several
DEFAULT_STORE = "default"


class EventState(StrEnum):
    """Where an accepted webhook is on its way to messages."""

    #: stored and acknowledged; the router has not looked at it yet
    NEW = "new"
    #: turned into zero or more messages
    ROUTED = "routed"
    #: the same resource state arrived before; nothing is sent again
    DUPLICATE = "duplicate"
    #: deliberately not sent, e.g. a checkout-draft order
    IGNORED = "ignored"


class MessageStatus(StrEnum):
    """Where a Telegram message is. Only `sent`, `dead` and `skipped` are final."""

    #: waiting for its turn (its chat's earlier messages, a backoff, a retry_after)
    PENDING = "pending"
    #: handed to Telegram; after a crash it goes back to pending and may be sent twice
    SENDING = "sending"
    #: Telegram accepted it
    SENT = "sent"
    #: a dead letter: it failed permanently or ran out of retries; last_error says why
    DEAD = "dead"
    #: dropped on purpose, when routed or just before sending (the chat muted its topic);
    #: last_error says why
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class IncomingEvent:
    """A verified webhook as it arrived, before it is stored."""

    store: str
    topic: str
    body: bytes
    body_key: str
    received_at: float
    webhook_id: str | None = None
    delivery_id: str | None = None
    #: found through the store's REST API rather than delivered by a webhook
    recovered: bool = False


@dataclass(frozen=True, slots=True)
class Accepted:
    """The answer to storing an event: its id, and whether it was a redelivery."""

    event_id: int
    duplicate: bool


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An accepted event waiting to be routed."""

    id: int
    store: str
    topic: str
    body: bytes
    received_at: float
    #: found through the store's REST API rather than delivered by a webhook
    recovered: bool = False


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One Telegram message the router decided to send."""

    chat_id: int
    topic: str
    text: str
    thread_id: int | None = None
    reply_markup: str | None = None
    silent: bool = False
    #: set when the message is kept as skipped rather than sent (e.g. its topic is muted)
    skip_reason: str | None = None


@dataclass(frozen=True)
class OrderState:
    """The status of an order as one payload shows it."""

    store: str
    order_id: str
    status: str
    modified: str
    #: this status was learned from the REST API (a gap filled), not from a webhook
    recovered: bool = False


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """One order in the orders ledger, in its latest known state: what reports add up."""

    store: str
    order_id: str
    status: str
    currency: str
    #: decimal text as WooCommerce writes it ("1234.56"), summed exactly by reports
    total: str
    #: the sum of the order's refunds, positive decimal text
    refunded: str
    #: (product name, quantity, line total) per line item
    items: tuple[tuple[str, int, str], ...]
    #: the customer's id, a digest of a guest's e-mail, or "" when unknown
    customer: str
    #: when the order was placed, epoch seconds
    created_at: float
    modified: str


@dataclass(frozen=True, slots=True)
class SeenOrder:
    """What the bridge last saw of an order: its status, that state's date, and whether
    the REST API (not a webhook) showed it."""

    status: str
    modified: str
    recovered: bool


@dataclass(frozen=True, slots=True)
class StockLevel:
    """A product's (or variation's) stock as one payload showed it."""

    status: str
    #: None when WooCommerce does not manage the stock (manage_stock off)
    quantity: int | None
    #: date_modified of that payload, to tell a late delivery
    modified: str = ""


@dataclass(frozen=True, slots=True)
class StockState:
    """A product's stock level, to remember as its last one."""

    store: str
    product_id: str
    level: StockLevel


@dataclass(frozen=True, slots=True)
class StoreActivity:
    """What /status tells of one store's deliveries."""

    #: the latest webhook stored (epoch seconds), None if none is kept
    last_webhook: float | None
    #: events recovered through the REST API since the time asked about
    recovered: int


@dataclass(frozen=True, slots=True)
class DigestItem:
    """One event held back for a digest of its chat, forum topic and webhook topic."""

    chat_id: int
    thread_id: int | None
    topic: str
    silent: bool
    language: str | None
    #: what the digest lists: a product's name, a coupon's code
    title: str
    event_id: int


@dataclass(frozen=True)
class Digest:
    """A burst ready to be sent as one message."""

    chat_id: int
    thread_id: int | None
    topic: str
    silent: bool
    language: str | None
    count: int
    titles: tuple[str, ...]
    first_at: float
    last_at: float
    last_event_id: int
    item_ids: tuple[int, ...]

    @property
    def minutes(self) -> int:
        """How long the burst lasted, in whole minutes (at least 1)."""
        return max(1, round((self.last_at - self.first_at) / 60))


@dataclass(frozen=True, slots=True)
class MuteRecord:
    """A stored mute: a topic pattern one chat (and forum topic) does not want to hear."""

    chat_id: int
    thread_id: int | None
    pattern: str
    #: when it ends (epoch seconds); None lasts until /unmute
    until: float | None
    muted_by: int


@dataclass(frozen=True, slots=True)
class Routing:
    """What the router decided for one event, committed in one transaction."""

    event_id: int
    state: EventState
    messages: tuple[OutgoingMessage, ...] = ()
    note: str | None = None
    #: set when the event is the first of its resource state, to catch later redeliveries
    state_key: str | None = None
    #: the order status the event showed, remembered unless a newer one is known
    order_state: OrderState | None = None
    #: the stock level the event showed, remembered unless a newer one is known
    stock_state: StockState | None = None
    #: events held back for digests instead of being sent one by one
    digest_items: tuple[DigestItem, ...] = ()
    #: the order's row in the orders ledger, kept unless a newer state is known
    ledger_row: LedgerRow | None = None


@dataclass(frozen=True, slots=True)
class QueuedMessage:
    """A message claimed for sending."""

    id: int
    event_id: int
    chat_id: int
    thread_id: int | None
    topic: str
    text: str
    reply_markup: str | None
    silent: bool
    attempts: int
    created_at: float


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A message that will not be sent unless replayed."""

    id: int
    event_id: int
    chat_id: int
    topic: str
    attempts: int
    created_at: float
    updated_at: float
    last_error: str | None


@dataclass(frozen=True, slots=True)
class QueueStats:
    """Counts for /status and /healthz."""

    events_waiting: int
    pending: int
    sending: int
    sent: int
    dead: int
    last_sent_at: float | None


@dataclass(frozen=True, slots=True)
class OrderCard:
    """The order a message of the bot is about."""

    store: str
    order_id: str
    #: the event it was made from; 0 for a card posted on request (/order)
    event_id: int


@dataclass(frozen=True, slots=True)
class OrderCopy:
    """One chat's sent copy of a message about an order."""

    chat_id: int
    telegram_id: int
    text: str


@dataclass(frozen=True, slots=True)
class OrderAction:
    """What a member of staff did to an order from Telegram, and how it ended."""

    store: str
    order_id: str
    user_id: int
    user_name: str
    chat_id: int
    #: status, note or customer-note
    action: str
    from_status: str | None
    to_status: str | None
    #: done, or why not (race, refused, failed: ...)
    result: str
    at: float
    id: int = 0
