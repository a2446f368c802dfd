"""The Redis side of the VictoriaMetrics writer: the spool of unsent chunks, its cap, dead letters, the breaker.

Keys, all under the spool key `K` in the spool's own Redis database (VICTORIA_SPOOL_URL):
- `K` list of chunks, oldest first; each begins with a comment line `# wardflux spool <id> <samples>` that
  VictoriaMetrics skips, so a chunk is still a valid payload, names itself and says how many samples it holds;
- `K:bytes` the list's size in bytes, kept with every push and pop; over the cap the oldest chunks are dropped;
- `K:dropped` hash {chunks, samples} dropped at the cap; `K:dead` the last chunks VictoriaMetrics rejected
  (HTTP 4xx: sending them again would fail again), `K:rejected` hash {chunks, samples} of every such chunk;
- `K:samples` hash {sent, replayed, spooled}: samples VictoriaMetrics took at once, took from the spool, and spooled;
- `K:breaker` while set, writes skip VictoriaMetrics (value: open until, Unix seconds; `probe` while one
  process tries it again); `K:tripped` set from a failure until a write succeeds; `K:lock` the replay lock.
"""
from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass

import redis
from redis.lock import Lock

logger = logging.getLogger(__name__)

HEADER_PREFIX = b"# wardflux spool "
SPOOL_STAT_KEYS = ("chunks", "bytes", "dropped_chunks", "dropped_samples", "dead_letters", "dead_letter_samples",
                   "dead_letters_kept", "breaker_open_until")
SAMPLE_OUTCOMES = ("sent", "replayed", "spooled")

# Shared by the scripts: samples in a chunk from its header; an old chunk without one counts its lines.
_SAMPLES_OF = """
local function samples_of(chunk)
  local n = string.match(string.sub(chunk, 1, 80), "^# wardflux spool %S+ (%d+)\\n")
  if n then return tonumber(n) end
  local _, lines = string.gsub(chunk, "\\n", "")
  return lines
end
local function forget(list, bytes, chunk)
  redis.call('LPOP', list)
  if redis.call('LLEN', list) == 0 then redis.call('SET', bytes, 0) else redis.call('DECRBY', bytes, #chunk) end
end
"""

# KEYS: list, bytes, dropped; ARGV: chunk, cap in bytes. Pushes, then drops the oldest while over the cap.
_PUSH = _SAMPLES_OF + """
if redis.call('LLEN', KEYS[1]) == 0 then redis.call('SET', KEYS[2], 0) end
redis.call('RPUSH', KEYS[1], ARGV[1])
local total = redis.call('INCRBY', KEYS[2], #ARGV[1])
local chunks, samples = 0, 0
while total > tonumber(ARGV[2]) and redis.call('LLEN', KEYS[1]) > 0 do
  local old = redis.call('LINDEX', KEYS[1], 0)
  forget(KEYS[1], KEYS[2], old)
  total = tonumber(redis.call('GET', KEYS[2]))
  chunks, samples = chunks + 1, samples + samples_of(old)
end
if chunks > 0 then
  redis.call('HINCRBY', KEYS[3], 'chunks', chunks)
  redis.call('HINCRBY', KEYS[3], 'samples', samples)
end
return {chunks, samples}
"""

# KEYS: list, bytes[, dead, rejected]; ARGV: the head's first line[, dead-letter cap in chunks]. Pops the head
# only if it is still the chunk the caller sent (the cap may have dropped it meanwhile); with KEYS[3], keeps it
# as a dead letter. Returns 1 when popped.
_POP_HEAD = _SAMPLES_OF + """
local head = redis.call('LINDEX', KEYS[1], 0)
if not head or string.sub(head, 1, #ARGV[1]) ~= ARGV[1] then return 0 end
forget(KEYS[1], KEYS[2], head)
if KEYS[3] then
  redis.call('RPUSH', KEYS[3], head)
  redis.call('LTRIM', KEYS[3], -tonumber(ARGV[2]), -1)
  redis.call('HINCRBY', KEYS[4], 'chunks', 1)
  redis.call('HINCRBY', KEYS[4], 'samples', samples_of(head))
end
return 1
"""


def chunk_with_header(payload: bytes, samples: int) -> bytes:
    """A spool chunk: the payload behind a comment line naming it and counting its samples."""
    return b"%s%s %d\n%s" % (HEADER_PREFIX, uuid.uuid4().hex.encode(), samples, payload)


def samples_in(chunk: bytes) -> int:
    """How many samples a spool chunk holds, by its header (an old chunk without one: its lines)."""
    if chunk.startswith(HEADER_PREFIX):
        return int(first_line(chunk)[len(HEADER_PREFIX):].split()[1])
    return chunk.count(b"\n")


def first_line(chunk: bytes) -> bytes:
    """What identifies a chunk in the list: its header line (an old chunk without one: all of it)."""
    return chunk[: chunk.index(b"\n") + 1] if chunk.startswith(HEADER_PREFIX) else chunk


@dataclass(frozen=True)
class Dropped:
    chunks: int
    samples: int


class Spool:
    """Chunks VictoriaMetrics has not taken yet, capped at `max_bytes`; RedisError when Redis fails."""

    def __init__(self, connection: redis.Redis, key: str, *, max_bytes: int, dead_letter_max: int) -> None:
        self.redis = connection
        self.key = key
        self.max_bytes = max_bytes
        self.dead_letter_max = dead_letter_max
        self._push = connection.register_script(_PUSH)
        self._pop_head = connection.register_script(_POP_HEAD)

    def _k(self, suffix: str) -> str:
        return f"{self.key}:{suffix}"

    def push(self, payload: bytes, samples: int) -> Dropped:
        """Append a chunk; when over the cap, drop the oldest (counted in `K:dropped`) and log how many."""
        chunks, dropped = self._push(keys=[self.key, self._k("bytes"), self._k("dropped")],
                                     args=[chunk_with_header(payload, samples), self.max_bytes])
        if chunks:
            logger.error("VictoriaMetrics spool %s is full (%d bytes): dropped the oldest %d chunks, %d samples",
                         self.key, self.max_bytes, chunks, dropped)
        return Dropped(int(chunks), int(dropped))

    def head(self) -> bytes | None:
        """The oldest chunk, left in place."""
        return self.redis.lindex(self.key, 0)

    def pop_head(self, chunk: bytes) -> bool:
        """Remove `chunk` if it is still the oldest; False when it is not (dropped at the cap meanwhile)."""
        return bool(self._pop_head(keys=[self.key, self._k("bytes")], args=[first_line(chunk)]))

    def dead_letter(self, chunk: bytes) -> bool:
        """Move the oldest chunk, if still `chunk`, to the dead letters (the last `dead_letter_max` are kept)."""
        keys = [self.key, self._k("bytes"), self._k("dead"), self._k("rejected")]
        return bool(self._pop_head(keys=keys, args=[first_line(chunk), self.dead_letter_max]))

    def add_dead_letter(self, payload: bytes, samples: int) -> None:
        """Keep a chunk VictoriaMetrics rejected in a live write (it never was in the spool) with the others."""
        pipe = self.redis.pipeline()
        pipe.rpush(self._k("dead"), chunk_with_header(payload, samples))
        pipe.ltrim(self._k("dead"), -self.dead_letter_max, -1)
        pipe.hincrby(self._k("rejected"), "chunks", 1).hincrby(self._k("rejected"), "samples", samples)
        pipe.execute()
        logger.error("VictoriaMetrics rejected a chunk of %d samples: kept in %s", samples, self._k("dead"))

    def size(self) -> int:
        return self.redis.llen(self.key)

    def count(self, **outcomes: int) -> None:
        """Add to the samples counters in `K:samples` (sent, replayed, spooled)."""
        pipe = self.redis.pipeline(transaction=False)
        for outcome, samples in outcomes.items():
            if samples:
                pipe.hincrby(self._k("samples"), outcome, samples)
        pipe.execute()

    def counted(self) -> dict[str, int]:
        """The samples counters so far: {sent, replayed, spooled}."""
        found = self.redis.hgetall(self._k("samples"))
        return {outcome: int(found.get(outcome.encode(), 0)) for outcome in SAMPLE_OUTCOMES}

    def lock(self, timeout: float) -> Lock:
        return self.redis.lock(self._k("lock"), timeout=timeout, blocking=False)

    # --- the breaker ---------------------------------------------------------------------------

    def may_write(self, probe_seconds: float) -> bool:
        """Whether this write goes to VictoriaMetrics: the breaker is closed, or it has run out and this process
        won the one probe; while open (or another process probes) the write goes to the spool."""
        breaker, tripped = self.redis.mget(self._k("breaker"), self._k("tripped"))
        if breaker is not None:
            return False
        if tripped is None:
            return True
        return bool(self.redis.set(self._k("breaker"), "probe", nx=True, px=max(1, int(probe_seconds * 1000))))

    def trip(self, seconds: float) -> float:
        """Open the breaker for `seconds` (all processes sharing the spool skip VictoriaMetrics); until when."""
        until = time.time() + seconds
        pipe = self.redis.pipeline()
        pipe.set(self._k("breaker"), repr(until), px=max(1, int(seconds * 1000)))
        pipe.set(self._k("tripped"), "1")
        pipe.execute()
        return until

    def close_breaker(self) -> None:
        """A write went through after a failure: back to normal."""
        self.redis.delete(self._k("breaker"), self._k("tripped"))

    def is_open(self) -> bool:
        return self.redis.exists(self._k("breaker")) > 0

    # --- figures -------------------------------------------------------------------------------

    def stats(self) -> dict[str, int | float | None]:
        """chunks, bytes, dropped_chunks/_samples (at the cap), dead_letters (chunks ever rejected),
        dead_letter_samples, dead_letters_kept, breaker_open_until (Unix seconds, or None when closed)."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.llen(self.key).get(self._k("bytes")).hgetall(self._k("dropped")).hgetall(self._k("rejected"))
        pipe.llen(self._k("dead")).get(self._k("breaker"))
        chunks, size, dropped, rejected, kept, breaker = pipe.execute()
        return {
            "chunks": chunks,
            "bytes": int(size or 0) if chunks else 0,
            "dropped_chunks": int(dropped.get(b"chunks", 0)),
            "dropped_samples": int(dropped.get(b"samples", 0)),
            "dead_letters": int(rejected.get(b"chunks", 0)),
            "dead_letter_samples": int(rejected.get(b"samples", 0)),
            "dead_letters_kept": kept,
            "breaker_open_until": _open_until(breaker),
        }

    def all_keys(self) -> list[str]:
        """Every key this spool uses (tests delete them)."""
        return [self.key, *(self._k(s) for s in ("bytes", "dropped", "dead", "rejected", "samples", "breaker",
                                                   "tripped", "lock"))]


def _open_until(value: bytes | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:  # `probe`: one process is trying VictoriaMetrics again right now
        return time.time()
