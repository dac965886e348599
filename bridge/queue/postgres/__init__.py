"""The queue's storage on PostgreSQL, for several replicas sharing one database.

Driver: asyncpg. This backend leans on exactly what its defaults get right: autocommit
outside an explicit transaction (no session left "idle in transaction"), a pool that
resets advisory locks and LISTENs when a connection goes back, a termination callback
that fires the moment the leader's session dies, and transparent reconnection after a
server restart. Its one cost, no type information of its own, is paid by asyncpg-stubs.
psycopg 3 would serve as well; it would need explicit autocommit on the lock and
listener sessions and a reset callback on its pool, each a way to get leadership wrong.
"""
