"""Every SQL statement of the SQLite queue, named, apart from the code that runs them.

The statements use SQLite's dialect (json_each, RETURNING, INSERT OR REPLACE); a second
backend keeps its own module of statements behind the same Store operations.
"""

from __future__ import annotations

import functools

# --- intake ---------------------------------------------------------------------------

#: the events newer than an id, {key: id} (the first of a key wins), and the merged keys
#: among a JSON array of keys, {key: id}
INTAKE_KEYS = (
    "SELECT (SELECT json_group_object(body_key, id)"
    " FROM (SELECT body_key, id FROM events WHERE id > ? ORDER BY id DESC)),"
    " (SELECT json_group_object(body_key, event_id) FROM event_keys"
    " WHERE body_key IN (SELECT value FROM json_each(?)))"
)
#: every event's key not merged yet into event_keys, in key order (one pass through
#: the index); a key already there (a repeat that slipped in) keeps its first event
MERGE_KEYS = (
    "INSERT OR IGNORE INTO event_keys (body_key, event_id)"
    " SELECT body_key, id FROM events"
    " WHERE id > (SELECT coalesce(max(event_id), 0) FROM event_keys) ORDER BY body_key"
)
NEWEST_EVENT = "SELECT coalesce(max(id), 0) FROM events"
#: the newest event, and the newest with its key merged
MERGE_DUE = (
    "SELECT (SELECT coalesce(max(id), 0) FROM events),"
    " (SELECT coalesce(max(event_id), 0) FROM event_keys)"
)


@functools.lru_cache(maxsize=64)
def insert_events(rows: int) -> str:
    """One INSERT of `rows` events (only placeholders are repeated, never a value); the
    same string each time, which sqlite3's statement cache finds without hashing anew."""
    values = ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?)"] * rows)
    return _INSERT_EVENTS + values


_INSERT_EVENTS = (
    "INSERT INTO events"
    " (store, topic, webhook_id, delivery_id, body_key, body, received_at, recovered) VALUES "
)


#: an event the bridge makes itself (an alert), already routed to its one message
INSERT_ROUTED_EVENT = (
    "INSERT INTO events (store, topic, body_key, body, received_at, state)"
    " VALUES (?, ?, ?, ?, ?, 'routed') RETURNING id"
)

# --- routing --------------------------------------------------------------------------

NEW_EVENTS = (
    "SELECT id, store, topic, body, received_at, recovered FROM events"
    " WHERE state = 'new' ORDER BY id LIMIT ?"
)
SEEN_STATE = "SELECT event_id FROM resource_states WHERE state_key = ?"
SET_EVENT_STATE = "UPDATE events SET state = ?, note = ? WHERE id = ?"
REMEMBER_STATE = "INSERT OR IGNORE INTO resource_states (state_key, event_id) VALUES (?, ?)"
#: the one way a message enters the queue
INSERT_MESSAGE = (
    "INSERT INTO messages (event_id, chat_id, thread_id, topic, text, reply_markup,"
    " silent, status, last_error, run_at, created_at, updated_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)

# --- order states ---------------------------------------------------------------------

ORDER_STATUS = "SELECT status, modified FROM order_statuses WHERE store = ? AND order_id = ?"
SEEN_ORDERS = (
    "SELECT order_id, status, modified, recovered FROM order_statuses"
    " WHERE store = ? AND order_id IN (SELECT value FROM json_each(?))"
)
SEEN_ORDER = (
    "SELECT status, modified, recovered FROM order_statuses WHERE store = ? AND order_id = ?"
)
# Both dates come from WooCommerce in one ISO 8601 format, so text order is time order.
REMEMBER_ORDER_STATUS = (
    "INSERT INTO order_statuses (store, order_id, status, modified, event_id, recovered)"
    " VALUES (?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (store, order_id) DO UPDATE SET"
    " status = excluded.status, modified = excluded.modified, event_id = excluded.event_id,"
    " recovered = excluded.recovered"
    " WHERE excluded.modified >= order_statuses.modified OR excluded.modified = ''"
)

# --- orders ledger ------------------------------------------------------------------

RECORD_LEDGER = (
    "INSERT INTO orders_ledger (store, order_id, status, currency, total, refunded, items,"
    " customer, created_at, modified) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (store, order_id) DO UPDATE SET"
    " status = excluded.status, currency = excluded.currency, total = excluded.total,"
    " refunded = excluded.refunded, items = excluded.items, customer = excluded.customer,"
    " created_at = excluded.created_at, modified = excluded.modified"
    " WHERE excluded.modified >= orders_ledger.modified OR excluded.modified = ''"
)
LEDGER_ROWS = (
    "SELECT store, order_id, status, currency, total, refunded, items, customer, created_at,"
    " modified FROM orders_ledger WHERE created_at >= ? AND created_at < ?"
    " AND (? IS NULL OR store = ?) ORDER BY created_at, store, order_id"
)
#: customers whose first order in the ledger is before a time: "returning", not new
KNOWN_CUSTOMERS = (
    "SELECT DISTINCT store, customer FROM orders_ledger WHERE created_at < ? AND customer != ''"
    " AND (? IS NULL OR store = ?)"
)
LEDGER_START = "SELECT MIN(created_at) FROM orders_ledger WHERE (? IS NULL OR store = ?)"
PRUNE_LEDGER = "DELETE FROM orders_ledger WHERE created_at < ?"
SUMMARY_SENT = "SELECT 1 FROM summaries_sent WHERE key = ?"
RECORD_SUMMARY = "INSERT INTO summaries_sent (key, event_id, queued_at) VALUES (?, ?, ?)"
PRUNE_SUMMARIES = "DELETE FROM summaries_sent WHERE queued_at < ?"

# --- stock levels ---------------------------------------------------------------------

SEEN_STOCK = (
    "SELECT status, quantity, modified FROM stock_levels WHERE store = ? AND product_id = ?"
)
REMEMBER_STOCK = (
    "INSERT INTO stock_levels (store, product_id, status, quantity, modified, event_id)"
    " VALUES (?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (store, product_id) DO UPDATE SET"
    " status = excluded.status, quantity = excluded.quantity, modified = excluded.modified,"
    " event_id = excluded.event_id"
    " WHERE excluded.modified >= stock_levels.modified OR excluded.modified = ''"
)

# --- sending --------------------------------------------------------------------------

# The head of each chat's queue: the oldest message not yet sent or dead. A skip scan
# over the messages_open index (one seek per chat) rather than GROUP BY, which reads
# every open message: with 10,000 queued a claim took 1.3 ms and with 100,000 11 ms
# (0.4 and 0.9 ms now), and the sender runs it each time it looks for work.
_HEADS = """
    WITH RECURSIVE chats(chat_id) AS (
        SELECT MIN(chat_id) FROM messages WHERE status IN ('pending', 'sending')
        UNION ALL
        SELECT (SELECT MIN(chat_id) FROM messages
                WHERE status IN ('pending', 'sending') AND chat_id > chats.chat_id)
        FROM chats WHERE chat_id IS NOT NULL
    )
    SELECT chat_id, (SELECT MIN(id) FROM messages
                     WHERE status IN ('pending', 'sending') AND chat_id = chats.chat_id) AS head
    FROM chats WHERE chat_id IS NOT NULL
"""


# Only constant SQL is interpolated into these two.
CLAIM = f"""
    UPDATE messages SET status = 'sending', attempts = attempts + 1, updated_at = ?
    WHERE id IN (
        SELECT m.id FROM messages m JOIN ({_HEADS}) h ON m.id = h.head
        WHERE m.status = 'pending' AND m.run_at <= ?
          AND m.chat_id NOT IN (SELECT value FROM json_each(?))
        ORDER BY m.id LIMIT ?)
    RETURNING id, event_id, chat_id, thread_id, topic, text, reply_markup, silent,
              attempts, created_at
"""  # noqa: S608
NEXT_DUE = f"""
    SELECT MIN(m.run_at) FROM messages m JOIN ({_HEADS}) h ON m.id = h.head
    WHERE m.status = 'pending' AND m.chat_id NOT IN (SELECT value FROM json_each(?))
"""  # noqa: S608

RECOVER_IN_FLIGHT = "UPDATE messages SET status = 'pending' WHERE status = 'sending'"
MIGRATE_CHAT_MESSAGES = (
    "UPDATE messages SET chat_id = ?, status = 'pending', run_at = ?"
    " WHERE chat_id = ? AND status IN ('pending', 'sending')"
)
MARK_SENT = (
    "UPDATE messages SET status = 'sent', sent_at = ?, updated_at = ?, last_error = NULL,"
    " telegram_id = ? WHERE id = ?"
)
RETRY_LATER = (
    "UPDATE messages SET status = 'pending', run_at = ?, last_error = ?, updated_at = ?,"
    " attempts = attempts - ? WHERE id = ?"
)
UPDATE_TEXT = "UPDATE messages SET text = ?, reply_markup = ? WHERE id = ?"
MARK_SKIPPED = "UPDATE messages SET status = 'skipped', last_error = ?, updated_at = ? WHERE id = ?"
MARK_DEAD = "UPDATE messages SET status = 'dead', last_error = ?, updated_at = ? WHERE id = ?"

# --- mutes and chats that moved -------------------------------------------------------

DROP_ENDED_MUTES = "DELETE FROM mutes WHERE until IS NOT NULL AND until <= ?"
MUTES = "SELECT chat_id, thread_id, pattern, until, muted_by FROM mutes ORDER BY created_at"
SAVE_MUTE = (
    "INSERT OR REPLACE INTO mutes (chat_id, thread_id, pattern, until, muted_by, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
DELETE_MUTE = "DELETE FROM mutes WHERE chat_id = ? AND thread_id = ? AND pattern = ?"
MOVE_MUTES = (
    "INSERT OR REPLACE INTO mutes (chat_id, thread_id, pattern, until, muted_by, created_at)"
    " SELECT ?, thread_id, pattern, until, muted_by, created_at FROM mutes WHERE chat_id = ?"
)
DELETE_CHAT_MUTES = "DELETE FROM mutes WHERE chat_id = ?"
CHAT_MOVES = "SELECT old_chat_id, new_chat_id FROM chat_aliases"
RECORD_CHAT_MOVE = (
    "INSERT OR REPLACE INTO chat_aliases (old_chat_id, new_chat_id, migrated_at) VALUES (?, ?, ?)"
)

# --- digests --------------------------------------------------------------------------

HOLD_DIGEST_ITEM = (
    "INSERT INTO digest_items (chat_id, thread_id, topic, silent, language, title, event_id,"
    " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
#: bursts quiet since the first parameter, or begun before the second
DUE_DIGESTS = (
    "SELECT chat_id, thread_id, topic, MAX(silent), MAX(language), COUNT(*),"
    " MIN(created_at), MAX(created_at), MAX(event_id), json_group_array(id)"
    " FROM digest_items GROUP BY chat_id, thread_id, topic"
    " HAVING MAX(created_at) <= ? OR MIN(created_at) <= ?"
)
DIGEST_TITLES = (
    "SELECT title FROM digest_items WHERE chat_id = ? AND thread_id IS ? AND topic = ?"
    " ORDER BY id LIMIT ?"
)
DELETE_DIGEST_ITEM = "DELETE FROM digest_items WHERE id = ?"

# --- alerts ---------------------------------------------------------------------------

FAILED_CHATS = "SELECT chat_id FROM failed_chats"
FORGET_FAILED_CHAT = "DELETE FROM failed_chats WHERE chat_id = ?"
RECORD_FAILED_CHAT = (
    "INSERT OR REPLACE INTO failed_chats (chat_id, error, failed_at) VALUES (?, ?, ?)"
)

# --- dead letters and stats -----------------------------------------------------------

# A NULL chat means every chat.
#: how many messages wait to be sent, counted up to a bound (the open index stops there)
OPEN_MESSAGES_UP_TO = (
    "SELECT COUNT(*) FROM (SELECT 1 FROM messages WHERE status IN ('pending', 'sending') LIMIT ?)"
)
COUNT_NEW_EVENTS = "SELECT COUNT(*) FROM events WHERE state = 'new'"
COUNT_BY_STATUS = (
    "SELECT status, COUNT(*) FROM messages WHERE (? IS NULL OR chat_id = ?) GROUP BY status"
)
LAST_SENT = "SELECT MAX(sent_at) FROM messages WHERE (? IS NULL OR chat_id = ?)"
COUNT_DEAD = "SELECT COUNT(*) FROM messages WHERE status = 'dead' AND (? IS NULL OR chat_id = ?)"
DEAD_LETTERS = (
    "SELECT id, event_id, chat_id, topic, attempts, created_at, updated_at, last_error"
    " FROM messages WHERE status = 'dead' AND (? IS NULL OR chat_id = ?)"
    " ORDER BY id DESC LIMIT ?"
)
REPLAY = (
    "UPDATE messages SET status = 'pending', attempts = 0, run_at = ?, updated_at = ?,"
    " created_at = ? WHERE status = 'dead'"
    " AND (? IS NULL OR id IN (SELECT value FROM json_each(?)))"
)

# --- health and retention -------------------------------------------------------------

TOUCH_HEALTH = "INSERT OR REPLACE INTO health (id, checked_at) VALUES (1, ?)"
#: the latest wall time the bridge stored as "now", so its schedule clock never runs below it
LATEST_TIME = (
    "SELECT MAX(COALESCE((SELECT MAX(updated_at) FROM messages), 0),"
    " COALESCE((SELECT MAX(created_at) FROM digest_items), 0))"
)
# Pruning goes through the ids a slice at a time (id BETWEEN ? AND ?), one transaction
# each: one statement over the whole table held the database thread, and intake's next
# commit, for 0.2-0.4 s per 100,000 events.
MESSAGE_IDS = "SELECT MIN(id), MAX(id) FROM messages"
EVENT_IDS = "SELECT MIN(id), MAX(id) FROM events"
PRUNE_MESSAGES = (
    "DELETE FROM messages WHERE id BETWEEN ? AND ?"
    " AND ((status IN ('sent', 'skipped') AND updated_at < ?)"
    " OR (status = 'dead' AND updated_at < ?))"
)
PRUNE_EVENTS = (
    "DELETE FROM events WHERE id BETWEEN ? AND ? AND state != 'new' AND received_at < ?"
    " AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.event_id = events.id)"
    " AND NOT EXISTS (SELECT 1 FROM digest_items d WHERE d.event_id = events.id)"
)

# --- gap filling ----------------------------------------------------------------------

WATERMARK = "SELECT watermark FROM reconcile_watermarks WHERE store = ?"
SAVE_WATERMARK = (
    "INSERT INTO reconcile_watermarks (store, watermark, updated_at) VALUES (?, ?, ?)"
    " ON CONFLICT (store) DO UPDATE SET"
    " watermark = excluded.watermark, updated_at = excluded.updated_at"
)
RECOVERED_SINCE = (
    "SELECT COUNT(*) FROM events WHERE store = ? AND received_at >= ? AND recovered = 1"
    " AND state = 'routed'"
)
LAST_WEBHOOK = "SELECT MAX(received_at) FROM events WHERE store = ? AND recovered = 0"

# Order actions from Telegram: which event a sent message shows, every sent copy of an
# order's messages, and the audit of what staff did.
CARD_OF_MESSAGE = (
    "SELECT e.store, CAST(json_extract(CAST(e.body AS TEXT), '$.id') AS TEXT), e.id"
    " FROM messages m JOIN events e ON e.id = m.event_id"
    " WHERE m.chat_id = ? AND m.telegram_id = ? AND e.topic LIKE 'order.%'"
    " AND json_valid(CAST(e.body AS TEXT))"
    " UNION ALL SELECT store, order_id, 0 FROM order_cards WHERE chat_id = ? AND telegram_id = ?"
)
ORDER_COPIES = (
    "SELECT m.chat_id, m.telegram_id, m.text FROM messages m JOIN events e ON e.id = m.event_id"
    " WHERE e.store = ? AND e.topic LIKE 'order.%' AND m.telegram_id IS NOT NULL"
    " AND m.reply_markup IS NOT NULL AND json_valid(CAST(e.body AS TEXT))"
    " AND CAST(json_extract(CAST(e.body AS TEXT), '$.id') AS TEXT) = ?"
    " UNION ALL SELECT chat_id, telegram_id, text FROM order_cards WHERE store = ? AND order_id = ?"
)
SAVE_ORDER_CARD = (
    "INSERT OR REPLACE INTO order_cards (chat_id, telegram_id, store, order_id, text, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
RECORD_ORDER_ACTION = (
    "INSERT INTO order_actions (store, order_id, user_id, user_name, chat_id, action,"
    " from_status, to_status, result, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
ORDER_ACTIONS = (
    "SELECT id, store, order_id, user_id, user_name, chat_id, action, from_status, to_status,"
    " result, at FROM order_actions ORDER BY id DESC LIMIT ?"
)

# Telegram updates already handled: each is taken once, by one replica, in one run.
FORGET_UPDATES = "DELETE FROM telegram_updates WHERE handled_at < ?"
TAKE_UPDATE = (
    "INSERT INTO telegram_updates (update_id, handled_at) VALUES (?, ?)"
    " ON CONFLICT (update_id) DO NOTHING"
)
