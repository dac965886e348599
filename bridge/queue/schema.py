"""The SQLite schema, as numbered migrations applied in order (tracked in PRAGMA user_version).

Append a migration to change the schema; never edit one that has shipped.
"""

MIGRATIONS: tuple[str, ...] = (
    # 1: events as WooCommerce delivered them, and the Telegram messages made from them.
    """
    CREATE TABLE events (
        -- AUTOINCREMENT: ids are never reused, so id order is arrival order
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        store       TEXT NOT NULL,
        topic       TEXT NOT NULL,
        webhook_id  TEXT,
        delivery_id TEXT,                 -- not unique: a hash of webhook id and second
        body_key    TEXT NOT NULL UNIQUE, -- sha256(store, topic, raw body): redeliveries
        body        BLOB NOT NULL,        -- the raw bytes, exactly as signed
        received_at REAL NOT NULL,
        state       TEXT NOT NULL DEFAULT 'new'
                    CHECK (state IN ('new', 'routed', 'duplicate', 'ignored')),
        note        TEXT                  -- why an event was ignored or counted as a duplicate
    );
    -- The router only ever looks for events it has not handled yet.
    CREATE INDEX events_new ON events(id) WHERE state = 'new';
    -- Redeliveries of the same resource state (same topic, id, date_modified, status).
    CREATE TABLE resource_states (
        state_key   TEXT PRIMARY KEY,
        event_id    INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE
    );

    CREATE TABLE messages (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,  -- per-chat FIFO follows id order
        event_id    INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,
        chat_id     INTEGER NOT NULL,
        thread_id   INTEGER,
        topic       TEXT NOT NULL,
        text        TEXT NOT NULL,        -- Telegram HTML, already split to fit one message
        reply_markup TEXT,                -- JSON of an inline keyboard, or NULL
        silent      INTEGER NOT NULL DEFAULT 0,
        status      TEXT NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sending', 'sent', 'dead', 'skipped')),
        attempts    INTEGER NOT NULL DEFAULT 0,  -- failed or in-flight sends; a 429 does not count
        run_at      REAL NOT NULL,        -- not before: backoff and retry_after push it forward
        created_at  REAL NOT NULL,
        updated_at  REAL NOT NULL,
        sent_at     REAL,
        last_error  TEXT
    );
    -- The head of each chat's queue: the oldest message not yet sent or dead.
    CREATE INDEX messages_open ON messages(chat_id, id) WHERE status IN ('pending', 'sending');
    CREATE INDEX messages_event ON messages(event_id);
    CREATE INDEX messages_dead ON messages(id) WHERE status = 'dead';
    """,
    # 2: a row /healthz rewrites, to prove that the database still takes writes.
    """
    CREATE TABLE health (
        id          INTEGER PRIMARY KEY CHECK (id = 1),
        checked_at  REAL NOT NULL
    );
    -- Pruning finds old finished messages by age.
    CREATE INDEX messages_finished ON messages(updated_at) WHERE status IN ('sent', 'skipped');
    """,
    # 3: chats that refused messages for good, so that admins are told once, not per event.
    """
    CREATE TABLE failed_chats (
        chat_id     INTEGER PRIMARY KEY,
        error       TEXT NOT NULL,
        failed_at   REAL NOT NULL
    );
    """,
    # 4: what routing remembers: each order's last status, staff mutes, chats that moved.
    """
    -- The last status seen per order, so that order.updated can say what changed.
    CREATE TABLE order_statuses (
        store       TEXT NOT NULL,        -- X-WC-Webhook-Source: one bridge may serve several shops
        order_id    TEXT NOT NULL,
        status      TEXT NOT NULL,
        modified    TEXT NOT NULL,        -- date_modified of that payload: older ones are stale
        event_id    INTEGER NOT NULL,
        PRIMARY KEY (store, order_id)
    );
    -- Topics a chat (or one forum topic of it) does not want to hear, until a time or for good.
    CREATE TABLE mutes (
        chat_id     INTEGER NOT NULL,
        thread_id   INTEGER NOT NULL,     -- 0 for the chat itself (or a forum's General topic)
        pattern     TEXT NOT NULL,        -- a topic or glob pattern, e.g. order.*
        until       REAL,                 -- NULL: until /unmute
        muted_by    INTEGER NOT NULL,     -- the Telegram user who muted it
        created_at  REAL NOT NULL,
        PRIMARY KEY (chat_id, thread_id, pattern)
    );
    -- Groups that became supergroups: routes and mutes written for the old id follow the new one.
    CREATE TABLE chat_aliases (
        old_chat_id INTEGER PRIMARY KEY,
        new_chat_id INTEGER NOT NULL,
        migrated_at REAL NOT NULL
    );
    """,
    # 5: events held back from a burst, until they are sent as one digest message.
    """
    CREATE TABLE digest_items (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        chat_id     INTEGER NOT NULL,
        thread_id   INTEGER,
        topic       TEXT NOT NULL,
        silent      INTEGER NOT NULL DEFAULT 0,
        language    TEXT,
        title       TEXT NOT NULL,        -- what the digest lists: a product's name, a code
        event_id    INTEGER NOT NULL REFERENCES events(id),
        created_at  REAL NOT NULL
    );
    -- One burst is one (chat, forum topic, webhook topic).
    CREATE INDEX digest_items_burst ON digest_items(chat_id, thread_id, topic, id);
    """,
    # 6: gap filling from the REST API: events marked recovered, where each store's
    # reconciler got to (its watermark), and which order states a recovery taught.
    """
    ALTER TABLE events ADD COLUMN recovered INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE order_statuses ADD COLUMN recovered INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE reconcile_watermarks (
        store       TEXT PRIMARY KEY,
        watermark   TEXT NOT NULL,        -- date_modified_gmt, YYYY-MM-DDTHH:MM:SS (UTC)
        updated_at  REAL NOT NULL
    );
    -- /status counts recent recoveries and finds each store's last webhook.
    CREATE INDEX events_store_time ON events(store, received_at);
    """,
    # 7: each product's (and variation's) last stock status and quantity, for stock alerts.
    """
    CREATE TABLE stock_levels (
        store       TEXT NOT NULL,
        product_id  TEXT NOT NULL,        -- a variation has an id of its own
        status      TEXT NOT NULL,        -- instock, outofstock, onbackorder
        quantity    INTEGER,              -- NULL when the stock is not managed
        modified    TEXT NOT NULL,        -- date_modified of that payload: older ones are stale
        event_id    INTEGER NOT NULL,
        PRIMARY KEY (store, product_id)
    );
    """,
    # 8: staff act on orders from Telegram: the Telegram id of each sent message (to edit
    # every chat's copy of an order's card) and the audit of every action taken.
    """
    ALTER TABLE messages ADD COLUMN telegram_id INTEGER;
    CREATE INDEX messages_telegram ON messages(chat_id, telegram_id) WHERE telegram_id IS NOT NULL;
    CREATE TABLE order_actions (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        store       TEXT NOT NULL,
        order_id    TEXT NOT NULL,
        user_id     INTEGER NOT NULL,     -- the Telegram user who pressed
        user_name   TEXT NOT NULL,
        chat_id     INTEGER NOT NULL,
        action      TEXT NOT NULL,        -- status, note, customer-note
        from_status TEXT,
        to_status   TEXT,
        result      TEXT NOT NULL,        -- done, race, refused, failed: why
        at          REAL NOT NULL
    );
    CREATE INDEX order_actions_order ON order_actions(store, order_id, id);
    -- Order cards the bot posted on request (/order): their buttons act on this order.
    CREATE TABLE order_cards (
        chat_id     INTEGER NOT NULL,
        telegram_id INTEGER NOT NULL,
        store       TEXT NOT NULL,
        order_id    TEXT NOT NULL,
        text        TEXT NOT NULL,
        created_at  REAL NOT NULL,
        PRIMARY KEY (chat_id, telegram_id)
    );
    CREATE INDEX order_cards_order ON order_cards(store, order_id);
    """,
    # 9: the orders ledger sales reports read: one small row per order (its latest state),
    # kept BRIDGE_REPORT_RETENTION_DAYS, apart from the events' own retention. Amounts are
    # decimal text, summed exactly by the report; created_at is epoch seconds (UTC).
    """
    CREATE TABLE orders_ledger (
        store       TEXT NOT NULL,
        order_id    TEXT NOT NULL,
        status      TEXT NOT NULL,
        currency    TEXT NOT NULL,
        total       TEXT NOT NULL,        -- the order's total, as WooCommerce writes it
        refunded    TEXT NOT NULL,        -- the sum of its refunds, positive
        items       TEXT NOT NULL,        -- JSON [[name, quantity, line total], ...]
        customer    TEXT NOT NULL,        -- customer id, or a hash of the e-mail for guests
        created_at  REAL NOT NULL,
        modified    TEXT NOT NULL,
        PRIMARY KEY (store, order_id)
    );
    CREATE INDEX orders_ledger_created ON orders_ledger(created_at, store);
    CREATE INDEX orders_ledger_customer ON orders_ledger(store, customer, created_at);
    """,
    # 10: scheduled sales summaries already queued, so that each is sent once per day
    # across restarts: one row per chat, thread, kind and day.
    """
    CREATE TABLE summaries_sent (
        key         TEXT PRIMARY KEY,     -- chat:thread:daily|weekly:YYYY-MM-DD
        event_id    INTEGER NOT NULL,
        queued_at   REAL NOT NULL
    );
    """,
    # 11: Telegram updates already handled, so that one given again (Telegram confirms an
    # update only at the next getUpdates, so a bridge that stopped without that call, or a
    # new leader, receives it again) is not applied twice. Kept two days: Telegram keeps
    # an update for 24 hours at most.
    """
    CREATE TABLE telegram_updates (
        update_id   INTEGER PRIMARY KEY,
        handled_at  REAL NOT NULL
    );
    CREATE INDEX telegram_updates_age ON telegram_updates(handled_at);
    """,
    # 12: duplicate deliveries are found through event_keys, written in bulk (see
    # bridge/queue/intake_keys.py), instead of a unique index on events that every
    # delivery wrote a random page of. The events table is rebuilt without that index
    # (SQLite cannot drop it otherwise; ids, and the ids others refer to, are kept), and
    # its next id with it. Applied with foreign keys off, as SQLite's rebuild requires.
    """
    CREATE TEMP TABLE events_next_id AS
        SELECT seq FROM sqlite_sequence WHERE name = 'events';
    CREATE TABLE events_rebuilt (
        -- AUTOINCREMENT: ids are never reused, so id order is arrival order
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        store       TEXT NOT NULL,
        topic       TEXT NOT NULL,
        webhook_id  TEXT,
        delivery_id TEXT,                 -- not unique: a hash of webhook id and second
        body_key    TEXT NOT NULL,        -- sha256(store, topic, raw body): see event_keys
        body        BLOB NOT NULL,        -- the raw bytes, exactly as signed
        received_at REAL NOT NULL,
        state       TEXT NOT NULL DEFAULT 'new'
                    CHECK (state IN ('new', 'routed', 'duplicate', 'ignored')),
        note        TEXT,                 -- why an event was ignored or counted as a duplicate
        recovered   INTEGER NOT NULL DEFAULT 0
    );
    INSERT INTO events_rebuilt
        (id, store, topic, webhook_id, delivery_id, body_key, body, received_at, state, note,
         recovered)
        SELECT id, store, topic, webhook_id, delivery_id, body_key, body, received_at, state,
               note, recovered
        FROM events ORDER BY id;
    DROP TABLE events;
    ALTER TABLE events_rebuilt RENAME TO events;
    UPDATE sqlite_sequence SET seq = max(seq, (SELECT seq FROM temp.events_next_id))
        WHERE name = 'events';
    INSERT INTO sqlite_sequence (name, seq)
        SELECT 'events', seq FROM temp.events_next_id
        WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'events');
    DROP TABLE temp.events_next_id;
    CREATE INDEX events_new ON events(id) WHERE state = 'new';
    CREATE INDEX events_store_time ON events(store, received_at);
    -- The key of every event up to the newest one merged: a delivery whose key is here,
    -- or among the newer events the store keeps in memory, repeats that event.
    CREATE TABLE event_keys (
        body_key    TEXT PRIMARY KEY,
        event_id    INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE
    ) WITHOUT ROWID;
    CREATE INDEX event_keys_event ON event_keys(event_id);
    INSERT INTO event_keys (body_key, event_id) SELECT body_key, id FROM events ORDER BY body_key;
    """,
)
