"""Every SQL statement of the PostgreSQL queue, named, apart from the code that runs them.

The same operations as bridge.queue.sql (SQLite), in PostgreSQL's dialect: $n parameters,
arrays where SQLite takes JSON lists, ON CONFLICT where it says INSERT OR REPLACE.
"""

from __future__ import annotations

# --- intake ---------------------------------------------------------------------------

#: a batch of events, one array per column, in arrival order; a redelivery (of a row
#: stored before, or a second copy in the batch) is skipped and found by EVENTS_BY_KEY
INSERT_EVENTS = (
    "INSERT INTO events"
    " (store, topic, webhook_id, delivery_id, body_key, body, received_at, recovered)"
    " SELECT s, t, w, d, k, b, r, rc FROM unnest($1::text[], $2::text[], $3::text[],"
    " $4::text[], $5::text[], $6::bytea[], $7::float8[], $8::bool[])"
    " WITH ORDINALITY AS u(s, t, w, d, k, b, r, rc, n) ORDER BY n"
    " ON CONFLICT (body_key) DO NOTHING RETURNING id, body_key"
)
#: INSERT_EVENTS in one statement (one round trip, its own transaction) that also wakes
#: the routers of every replica: NOTIFY is delivered at commit, so no router looks before
#: the rows are visible, and identical notifications of one transaction are sent once
INSERT_EVENTS_NOTIFY = (
    f"WITH stored AS ({INSERT_EVENTS})"  # noqa: S608 - constant SQL only
    " SELECT id, body_key, pg_notify('bridge_events', '') FROM stored"
)
EVENTS_BY_KEY = "SELECT id, body_key FROM events WHERE body_key = ANY($1::text[])"
EVENTS_CHANNEL = "bridge_events"
#: an event the bridge makes itself (an alert), already routed to its one message
INSERT_ROUTED_EVENT = (
    "INSERT INTO events (store, topic, body_key, body, received_at, state)"
    " VALUES ($1, $2, $3, $4, $5, 'routed') RETURNING id"
)

# --- routing --------------------------------------------------------------------------

NEW_EVENTS = (
    "SELECT id, store, topic, body, received_at, recovered FROM events"
    " WHERE state = 'new' ORDER BY id LIMIT $1"
)
ANY_NEW_EVENT = "SELECT EXISTS (SELECT 1 FROM events WHERE state = 'new')"
SEEN_STATE = "SELECT event_id FROM resource_states WHERE state_key = $1"
SET_EVENT_STATE = "UPDATE events SET state = $1, note = $2 WHERE id = $3"
REMEMBER_STATE = (
    "INSERT INTO resource_states (state_key, event_id) VALUES ($1, $2)"
    " ON CONFLICT (state_key) DO NOTHING"
)
#: the one way a message enters the queue
INSERT_MESSAGE = (
    "INSERT INTO messages (event_id, chat_id, thread_id, topic, text, reply_markup,"
    " silent, status, last_error, run_at, created_at, updated_at)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
)
#: many messages of one event in one statement, inserted in the arrays' order (per-chat
#: FIFO follows id order)
INSERT_MESSAGES = (
    "INSERT INTO messages (event_id, chat_id, thread_id, topic, text, reply_markup,"
    " silent, status, last_error, run_at, created_at, updated_at)"
    " SELECT $1::bigint, c, th, tp, tx, rm, sl, st, le, $2::float8, $2::float8, $2::float8"
    " FROM unnest($3::bigint[],"
    " $4::bigint[], $5::text[], $6::text[], $7::text[], $8::bool[], $9::text[], $10::text[])"
    " WITH ORDINALITY AS u(c, th, tp, tx, rm, sl, st, le, n) ORDER BY n"
)


# --- order states ---------------------------------------------------------------------

ORDER_STATUS = "SELECT status, modified FROM order_statuses WHERE store = $1 AND order_id = $2"
SEEN_ORDERS = (
    "SELECT order_id, status, modified, recovered FROM order_statuses"
    " WHERE store = $1 AND order_id = ANY($2::text[])"
)
SEEN_ORDER = (
    "SELECT status, modified, recovered FROM order_statuses WHERE store = $1 AND order_id = $2"
)
# Both dates come from WooCommerce in one ISO 8601 format, so text order is time order
# (the database's collation is not asked: COLLATE "C" compares bytes, as SQLite does).
REMEMBER_ORDER_STATUS = (
    "INSERT INTO order_statuses (store, order_id, status, modified, event_id, recovered)"
    " VALUES ($1, $2, $3, $4, $5, $6)"
    " ON CONFLICT (store, order_id) DO UPDATE SET"
    " status = excluded.status, modified = excluded.modified, event_id = excluded.event_id,"
    " recovered = excluded.recovered"
    ' WHERE excluded.modified COLLATE "C" >= order_statuses.modified COLLATE "C"'
    " OR excluded.modified = ''"
)

# --- orders ledger ------------------------------------------------------------------

RECORD_LEDGER = (
    "INSERT INTO orders_ledger (store, order_id, status, currency, total, refunded, items,"
    " customer, created_at, modified) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    " ON CONFLICT (store, order_id) DO UPDATE SET"
    " status = excluded.status, currency = excluded.currency, total = excluded.total,"
    " refunded = excluded.refunded, items = excluded.items, customer = excluded.customer,"
    " created_at = excluded.created_at, modified = excluded.modified"
    ' WHERE excluded.modified COLLATE "C" >= orders_ledger.modified COLLATE "C"'
    " OR excluded.modified = ''"
)
LEDGER_ROWS = (
    "SELECT store, order_id, status, currency, total, refunded, items, customer, created_at,"
    " modified FROM orders_ledger WHERE created_at >= $1 AND created_at < $2"
    ' AND ($3::text IS NULL OR store = $3) ORDER BY created_at, store COLLATE "C",'
    ' order_id COLLATE "C"'
)
#: customers whose first order in the ledger is before a time: "returning", not new
KNOWN_CUSTOMERS = (
    "SELECT DISTINCT store, customer FROM orders_ledger WHERE created_at < $1"
    " AND customer != '' AND ($2::text IS NULL OR store = $2)"
)
LEDGER_START = "SELECT MIN(created_at) FROM orders_ledger WHERE ($1::text IS NULL OR store = $1)"
PRUNE_LEDGER = "DELETE FROM orders_ledger WHERE created_at < $1"
SUMMARY_SENT = "SELECT 1 FROM summaries_sent WHERE key = $1"
RECORD_SUMMARY = "INSERT INTO summaries_sent (key, event_id, queued_at) VALUES ($1, $2, $3)"
#: held until the transaction ends: serialises replicas writing under the same key
LOCK_KEY = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))"
PRUNE_SUMMARIES = "DELETE FROM summaries_sent WHERE queued_at < $1"

# --- stock levels ---------------------------------------------------------------------

SEEN_STOCK = (
    "SELECT status, quantity, modified FROM stock_levels WHERE store = $1 AND product_id = $2"
)
REMEMBER_STOCK = (
    "INSERT INTO stock_levels (store, product_id, status, quantity, modified, event_id)"
    " VALUES ($1, $2, $3, $4, $5, $6)"
    " ON CONFLICT (store, product_id) DO UPDATE SET"
    " status = excluded.status, quantity = excluded.quantity, modified = excluded.modified,"
    " event_id = excluded.event_id"
    ' WHERE excluded.modified COLLATE "C" >= stock_levels.modified COLLATE "C"'
    " OR excluded.modified = ''"
)

# --- sending --------------------------------------------------------------------------

# The head of each chat's queue: the oldest message not yet sent or dead. The chats are
# found by a skip scan over messages_open (one index seek per chat, as on SQLite), each
# chat's head by a LATERAL seek: the cost follows the number of chats, not the backlog
# (a flooded chat of 50,000 messages does not slow a claim). The head is chosen WITHOUT
# locking: SKIP LOCKED inside the per-chat subquery would skip a head another
# transaction holds and return the chat's second message, out of order.
_HEADS = """
    WITH RECURSIVE chats(chat_id) AS (
        (SELECT chat_id FROM messages WHERE status IN ('pending', 'sending')
         ORDER BY chat_id LIMIT 1)
        UNION ALL
        SELECT (SELECT m.chat_id FROM messages m
                WHERE m.status IN ('pending', 'sending') AND m.chat_id > chats.chat_id
                ORDER BY m.chat_id LIMIT 1)
        FROM chats WHERE chats.chat_id IS NOT NULL
    )
    SELECT h.id, h.chat_id, h.status, h.run_at FROM chats CROSS JOIN LATERAL (
        SELECT m.id, m.chat_id, m.status, m.run_at FROM messages m
        WHERE m.chat_id = chats.chat_id AND m.status IN ('pending', 'sending')
        ORDER BY m.id LIMIT 1) h
    WHERE chats.chat_id IS NOT NULL
"""

#: the leader's term, held against a new leader's bump until the claim commits

# Only constant SQL is interpolated into these two. The due heads are locked outside
# the head query with SKIP LOCKED (a head another claimer holds is left to it), and the
# UPDATE re-checks 'pending' on the newest row version (READ COMMITTED re-evaluates it).
# The claim is one statement (one round trip) that takes nothing unless the leader's term
# is still $5: the leader row is held FOR SHARE until the claim commits, so a new leader's
# bump waits for it and then requeues what it claimed; a bump committed first leaves the
# row's newest version at another epoch, and the claim empty.
CLAIM = f"""
    WITH term AS (SELECT epoch FROM leader WHERE id = 1 AND epoch = $5 FOR SHARE),
    heads AS ({_HEADS}),
    due AS (
        SELECT id FROM heads
        WHERE status = 'pending' AND run_at <= $2 AND chat_id <> ALL($3::bigint[])
          AND EXISTS (SELECT 1 FROM term)
        ORDER BY id LIMIT $4
    ),
    locked AS (
        SELECT m.id FROM messages m JOIN due ON m.id = due.id FOR UPDATE OF m SKIP LOCKED
    )
    UPDATE messages m SET status = 'sending', attempts = m.attempts + 1, updated_at = $1,
        claimed_epoch = $5
    FROM locked WHERE m.id = locked.id AND m.status = 'pending'
    RETURNING m.id, m.event_id, m.chat_id, m.thread_id, m.topic, m.text, m.reply_markup,
              m.silent, m.attempts, m.created_at
"""  # noqa: S608
NEXT_DUE = f"""
    WITH heads AS ({_HEADS})
    SELECT MIN(run_at) FROM heads WHERE status = 'pending' AND chat_id <> ALL($1::bigint[])
"""  # noqa: S608

#: sends left in flight by an earlier leader's term (or by no term): queued again
RECOVER_IN_FLIGHT = (
    "UPDATE messages SET status = 'pending' WHERE status = 'sending'"
    " AND (claimed_epoch IS NULL OR claimed_epoch < $1)"
)
MIGRATE_CHAT_MESSAGES = (
    "UPDATE messages SET chat_id = $1, status = 'pending', run_at = $2"
    " WHERE chat_id = $3 AND status IN ('pending', 'sending')"
)
MARK_SENT = (
    "UPDATE messages SET status = 'sent', sent_at = $1, updated_at = $2, last_error = NULL,"
    " telegram_id = $3 WHERE id = $4"
)
RETRY_LATER = (
    "UPDATE messages SET status = 'pending', run_at = $1, last_error = $2, updated_at = $3,"
    " attempts = attempts - $4 WHERE id = $5"
)
UPDATE_TEXT = "UPDATE messages SET text = $1, reply_markup = $2 WHERE id = $3"
MARK_SKIPPED = (
    "UPDATE messages SET status = 'skipped', last_error = $1, updated_at = $2 WHERE id = $3"
)
MARK_DEAD = "UPDATE messages SET status = 'dead', last_error = $1, updated_at = $2 WHERE id = $3"

# --- mutes and chats that moved -------------------------------------------------------

DROP_ENDED_MUTES = "DELETE FROM mutes WHERE until IS NOT NULL AND until <= $1"
MUTES = "SELECT chat_id, thread_id, pattern, until, muted_by FROM mutes ORDER BY created_at"
SAVE_MUTE = (
    "INSERT INTO mutes (chat_id, thread_id, pattern, until, muted_by, created_at)"
    " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (chat_id, thread_id, pattern) DO UPDATE SET"
    " until = excluded.until, muted_by = excluded.muted_by, created_at = excluded.created_at"
)
DELETE_MUTE = "DELETE FROM mutes WHERE chat_id = $1 AND thread_id = $2 AND pattern = $3"
MOVE_MUTES = (
    "INSERT INTO mutes (chat_id, thread_id, pattern, until, muted_by, created_at)"
    " SELECT $1, thread_id, pattern, until, muted_by, created_at FROM mutes WHERE chat_id = $2"
    " ON CONFLICT (chat_id, thread_id, pattern) DO UPDATE SET"
    " until = excluded.until, muted_by = excluded.muted_by, created_at = excluded.created_at"
)
DELETE_CHAT_MUTES = "DELETE FROM mutes WHERE chat_id = $1"
CHAT_MOVES = "SELECT old_chat_id, new_chat_id FROM chat_aliases"
RECORD_CHAT_MOVE = (
    "INSERT INTO chat_aliases (old_chat_id, new_chat_id, migrated_at) VALUES ($1, $2, $3)"
    " ON CONFLICT (old_chat_id) DO UPDATE SET"
    " new_chat_id = excluded.new_chat_id, migrated_at = excluded.migrated_at"
)

# --- digests --------------------------------------------------------------------------

HOLD_DIGEST_ITEM = (
    "INSERT INTO digest_items (chat_id, thread_id, topic, silent, language, title, event_id,"
    " created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
)
#: bursts quiet since the first parameter, or begun before the second
DUE_DIGESTS = (
    "SELECT chat_id, thread_id, topic, bool_or(silent), MAX(language), COUNT(*),"
    " MIN(created_at), MAX(created_at), MAX(event_id), array_agg(id ORDER BY id)"
    " FROM digest_items GROUP BY chat_id, thread_id, topic"
    " HAVING MAX(created_at) <= $1 OR MIN(created_at) <= $2"
)
DIGEST_TITLES = (
    "SELECT title FROM digest_items WHERE chat_id = $1 AND thread_id IS NOT DISTINCT FROM $2"
    " AND topic = $3 ORDER BY id LIMIT $4"
)
DELETE_DIGEST_ITEMS = "DELETE FROM digest_items WHERE id = ANY($1::bigint[])"

# --- alerts ---------------------------------------------------------------------------

FAILED_CHATS = "SELECT chat_id FROM failed_chats"
FORGET_FAILED_CHAT = "DELETE FROM failed_chats WHERE chat_id = $1"
RECORD_FAILED_CHAT = (
    "INSERT INTO failed_chats (chat_id, error, failed_at) VALUES ($1, $2, $3)"
    " ON CONFLICT (chat_id) DO UPDATE SET error = excluded.error, failed_at = excluded.failed_at"
)

# --- dead letters and stats -----------------------------------------------------------

# A NULL chat means every chat.
#: how many messages wait to be sent, counted up to a bound (the open index stops there)
OPEN_MESSAGES_UP_TO = (
    "SELECT COUNT(*) FROM (SELECT 1 FROM messages WHERE status IN ('pending', 'sending')"
    " LIMIT $1) AS open"
)
COUNT_NEW_EVENTS = "SELECT COUNT(*) FROM events WHERE state = 'new'"
COUNT_BY_STATUS = (
    "SELECT status, COUNT(*) FROM messages WHERE ($1::bigint IS NULL OR chat_id = $1)"
    " GROUP BY status"
)
LAST_SENT = "SELECT MAX(sent_at) FROM messages WHERE ($1::bigint IS NULL OR chat_id = $1)"
COUNT_DEAD = (
    "SELECT COUNT(*) FROM messages WHERE status = 'dead' AND ($1::bigint IS NULL OR chat_id = $1)"
)
DEAD_LETTERS = (
    "SELECT id, event_id, chat_id, topic, attempts, created_at, updated_at, last_error"
    " FROM messages WHERE status = 'dead' AND ($1::bigint IS NULL OR chat_id = $1)"
    " ORDER BY id DESC LIMIT $2"
)
REPLAY = (
    "UPDATE messages SET status = 'pending', attempts = 0, run_at = $1, updated_at = $1,"
    " created_at = $1 WHERE status = 'dead' AND ($2::bigint[] IS NULL OR id = ANY($2))"
)

# --- health and retention -------------------------------------------------------------

TOUCH_HEALTH = (
    "INSERT INTO health (id, checked_at) VALUES (1, $1)"
    " ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at"
)
#: the latest wall time the bridge stored as "now", so its schedule clock never runs below it
LATEST_TIME = (
    "SELECT GREATEST(COALESCE((SELECT MAX(updated_at) FROM messages), 0),"
    " COALESCE((SELECT MAX(created_at) FROM digest_items), 0))"
)
PRUNE_MESSAGES = (
    "DELETE FROM messages WHERE (status IN ('sent', 'skipped') AND updated_at < $1)"
    " OR (status = 'dead' AND updated_at < $2)"
)
PRUNE_EVENTS = (
    "DELETE FROM events WHERE state != 'new' AND received_at < $1"
    " AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.event_id = events.id)"
    " AND NOT EXISTS (SELECT 1 FROM digest_items d WHERE d.event_id = events.id)"
)

# --- gap filling ----------------------------------------------------------------------

WATERMARK = "SELECT watermark FROM reconcile_watermarks WHERE store = $1"
SAVE_WATERMARK = (
    "INSERT INTO reconcile_watermarks (store, watermark, updated_at) VALUES ($1, $2, $3)"
    " ON CONFLICT (store) DO UPDATE SET"
    " watermark = excluded.watermark, updated_at = excluded.updated_at"
)
RECOVERED_SINCE = (
    "SELECT COUNT(*) FROM events WHERE store = $1 AND received_at >= $2 AND recovered"
    " AND state = 'routed'"
)
LAST_WEBHOOK = "SELECT MAX(received_at) FROM events WHERE store = $1 AND NOT recovered"

# Order actions from Telegram: which event a sent message shows, every sent copy of an
# order's messages, and the audit of what staff did. bridge_body_id (migration 3) reads
# an order's id from a raw body, NULL for a body that is not a JSON object.
CARD_OF_MESSAGE = (
    "SELECT e.store, bridge_body_id(e.body), e.id"
    " FROM messages m JOIN events e ON e.id = m.event_id"
    " WHERE m.chat_id = $1 AND m.telegram_id = $2 AND e.topic LIKE 'order.%'"
    " AND bridge_body_id(e.body) IS NOT NULL"
    " UNION ALL SELECT store, order_id, 0 FROM order_cards WHERE chat_id = $1 AND telegram_id = $2"
)
ORDER_COPIES = (
    "SELECT m.chat_id, m.telegram_id, m.text FROM messages m JOIN events e ON e.id = m.event_id"
    " WHERE e.store = $1 AND e.topic LIKE 'order.%' AND m.telegram_id IS NOT NULL"
    " AND m.reply_markup IS NOT NULL AND bridge_body_id(e.body) = $2"
    " UNION ALL SELECT chat_id, telegram_id, text FROM order_cards"
    " WHERE store = $1 AND order_id = $2"
)
SAVE_ORDER_CARD = (
    "INSERT INTO order_cards (chat_id, telegram_id, store, order_id, text, created_at)"
    " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (chat_id, telegram_id) DO UPDATE SET"
    " store = excluded.store, order_id = excluded.order_id, text = excluded.text,"
    " created_at = excluded.created_at"
)
RECORD_ORDER_ACTION = (
    "INSERT INTO order_actions (store, order_id, user_id, user_name, chat_id, action,"
    " from_status, to_status, result, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
)
ORDER_ACTIONS = (
    "SELECT id, store, order_id, user_id, user_name, chat_id, action, from_status, to_status,"
    " result, at FROM order_actions ORDER BY id DESC LIMIT $1"
)

# --- Telegram updates already handled -------------------------------------------------

#: forgets what is older than $3 and takes update $1 in one statement; a row back means
#: this replica took it (ON CONFLICT waits for a replica taking it at the same moment)
TAKE_UPDATE = """
    WITH forgotten AS (DELETE FROM telegram_updates WHERE handled_at < $3)
    INSERT INTO telegram_updates (update_id, handled_at) VALUES ($1, $2)
    ON CONFLICT (update_id) DO NOTHING RETURNING update_id
"""
