"""The store against a plain reference model, over random sequences of requests.

The model is written for clarity, not speed: a dict of tuples, a revision
counter, the full list of events, and for each watcher the events it should
have been given. Transactions work on a copy of the dict that is kept only if
every step succeeds. Both see the same requests; after each the store's
answers, contents, owners, history bounds and watcher streams must agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from skein.kvstore import (
    MAX_KEY_BYTES,
    MAX_VALUE_BYTES,
    Condition,
    DeleteRange,
    DeleteResult,
    Event,
    EventType,
    Field,
    GetRange,
    KeyRange,
    KeyValue,
    KeyValueError,
    Operation,
    OperationResult,
    Operator,
    Owner,
    Put,
    PutResult,
    RangeResult,
    Store,
    Watcher,
)

# Small bounds, so that compaction and slow watchers happen in short runs.
HISTORY_EVENTS = 3
WATCHER_EVENTS = 2

LIVE = [Owner("w", 0), Owner("w", 1), Owner("x", 0)]
DEAD = Owner("w", 7)


class _LongKey(str):
    __slots__ = ()

    def __repr__(self) -> str:  # keeps Hypothesis's reports short
        return "LONG_KEY"


class _Huge(bytes):
    def __repr__(self) -> str:
        return "HUGE"


LONG_KEY = _LongKey("k" * (MAX_KEY_BYTES + 1))
HUGE = _Huge(b"v" * (MAX_VALUE_BYTES + 1))

# (key, value, owner, create_revision, mod_revision, version)
Entry = tuple[str, bytes, "tuple[str, int] | None", int, int, int]
# (type, entry, revision)
ModelEvent = tuple[str, Entry, int]


def check_owner(owner: Owner) -> str | None:
    return "Container 'w_7' has already completed" if owner == DEAD else None


# Few keys, so that requests often meet; "\0" and astral characters test the order.
# Rejected writes (an empty or long key, a huge value, a dead owner) are rare
# enough that most requests change something.
keys = st.text(alphabet="ab\0", max_size=2) | st.sampled_from(["é", "a\U0010ffff"])
good_keys = st.text(alphabet="ab\0", min_size=1, max_size=2) | st.sampled_from(["é", "a\U0010ffff"])
write_keys = st.one_of(*[good_keys] * 8, st.just(""), st.just(LONG_KEY))
values = st.sampled_from([b"", b"a", b"b", b"\x7f", b"\x80"])
write_values = st.one_of(*[values] * 8, st.just(HUGE))
owners = st.sampled_from([None, *LIVE])
write_owners = st.sampled_from([None, None, *LIVE, *LIVE, DEAD])
ranges = st.builds(KeyRange, keys, keys) | st.builds(KeyRange.prefix, keys)
puts = st.builds(
    Put,
    key=write_keys,
    value=write_values,
    owner=write_owners,
    ignore_value=st.sampled_from([False] * 5 + [True]),
    ignore_owner=st.sampled_from([False, False, True]),
)
operations: st.SearchStrategy[Operation] = st.one_of(
    puts,
    st.builds(GetRange, keys=ranges),
    st.builds(DeleteRange, keys=ranges),
)


@st.composite
def conditions(draw: st.DrawFn) -> Condition:
    which = draw(st.sampled_from(Field))
    rhs: bytes | Owner | int | None
    if which is Field.VALUE:
        rhs = draw(st.none() | values)
    elif which is Field.OWNER:
        rhs = draw(owners)
    else:
        rhs = draw(st.integers(0, 12))
    op = draw(st.sampled_from(Operator))
    return Condition(key=draw(keys), field=which, operator=op, rhs=rhs)


def entry_of(kv: KeyValue) -> Entry:
    owner = None if kv.owner is None else (kv.owner.service_name, kv.owner.instance)
    return (kv.key, kv.value, owner, kv.create_revision, kv.mod_revision, kv.version)


def event_of(event: Event) -> ModelEvent:
    assert event.kv.mod_revision == event.revision
    return (event.type.value, entry_of(event.kv), event.revision)


def in_range(r: KeyRange, key: str) -> bool:
    return key >= r.start and (r.end == "" or key < r.end)


def holds(c: Condition, entry: Entry | None) -> bool:
    lhs: object
    if c.field is Field.VALUE:
        lhs = None if entry is None else entry[1]
    elif c.field is Field.OWNER:
        lhs = None if entry is None else entry[2]
    else:
        index = {Field.CREATE_REVISION: 3, Field.MOD_REVISION: 4, Field.VERSION: 5}[c.field]
        lhs = 0 if entry is None else entry[index]
    rhs: object = c.rhs
    if isinstance(rhs, Owner):
        rhs = (rhs.service_name, rhs.instance)
    if lhs is None or rhs is None:
        if c.operator is Operator.EQUAL:
            return lhs is None and rhs is None
        return c.operator is Operator.NOT_EQUAL and not (lhs is None and rhs is None)
    return {
        Operator.EQUAL: lhs == rhs,
        Operator.NOT_EQUAL: lhs != rhs,
        Operator.LESS: lhs < rhs,  # type: ignore[operator]
        Operator.LESS_EQUAL: lhs <= rhs,  # type: ignore[operator]
        Operator.GREATER: lhs > rhs,  # type: ignore[operator]
        Operator.GREATER_EQUAL: lhs >= rhs,  # type: ignore[operator]
    }[c.operator]


class Rejected(Exception):
    """The model refuses a request; the message is what the store must say."""


@dataclass(eq=False)  # removed by identity: two watchers may look alike
class ModelWatcher:
    keys: KeyRange
    event_type: str | None
    start_revision: int
    pending: list[ModelEvent] = field(default_factory=list)
    canceled: bool = False
    woken: bool = False  # told of news since the last take

    def offer(self, events: list[ModelEvent], *, live: bool = True) -> None:
        wanted = [
            e
            for e in events
            if (self.event_type is None or e[0] == self.event_type)
            and e[2] >= self.start_revision
            and in_range(self.keys, e[1][0])
        ]
        if self.canceled or not wanted:
            return
        if self.pending and len(self.pending) + len(wanted) > WATCHER_EVENTS:
            self.canceled = True
        else:
            self.pending.extend(wanted)
        self.woken = self.woken or live


class Model:
    def __init__(self) -> None:
        self.entries: dict[str, Entry] = {}
        self.revision = 1
        self.history: list[ModelEvent] = []
        self.watchers: list[ModelWatcher] = []

    def oldest_revision(self) -> int:
        # The history keeps the longest run of newest whole revisions that fits.
        kept = 0
        dropped: list[int] = []
        for revision in sorted({e[2] for e in self.history}, reverse=True):
            count = sum(1 for e in self.history if e[2] == revision)
            if dropped or kept + count > HISTORY_EVENTS:
                dropped.append(revision)
            else:
                kept += count
        return max(dropped) + 1 if dropped else 1

    def run(self, ops: list[Operation]) -> list[object]:
        entries = dict(self.entries)
        rev = self.revision + 1
        events: list[ModelEvent] = []
        results: list[object] = []
        for op in ops:
            if isinstance(op, GetRange):
                results.append([entries[k] for k in sorted(entries) if in_range(op.keys, k)])
            elif isinstance(op, DeleteRange):
                doomed = [k for k in sorted(entries) if in_range(op.keys, k)]
                results.append([entries.pop(k) for k in doomed])
                events += [("DELETE", (k, b"", None, 0, rev, 0), rev) for k in doomed]
            else:
                results.append(self.put(entries, op, rev, events))
        self.commit(entries, events)
        return results

    def put(self, entries: dict[str, Entry], op: Put, rev: int, events: list[ModelEvent]) -> object:
        if op.key == "":
            raise Rejected("Key must not be empty")
        if len(op.key.encode()) > MAX_KEY_BYTES:
            raise Rejected("over the limit of 8192 bytes")
        old = entries.get(op.key)
        if op.ignore_value and old is None:
            raise Rejected("ignore_value=True & key isn't already set")
        if not op.ignore_value and len(op.value) > MAX_VALUE_BYTES:
            raise Rejected(f"over the limit of {MAX_VALUE_BYTES} bytes")
        if not op.ignore_owner and op.owner == DEAD:
            raise Rejected("Container 'w_7' has already completed")
        value = old[1] if op.ignore_value and old else op.value
        if op.ignore_owner:
            owner = old[2] if old else None
        else:
            owner = None if op.owner is None else (op.owner.service_name, op.owner.instance)
        new: Entry = (
            op.key,
            value,
            owner,
            old[3] if old else rev,
            rev,
            old[5] + 1 if old else 1,
        )
        entries[op.key] = new
        events.append(("PUT", new, rev))
        return (new, old)

    def release(self, owner: Owner) -> list[Entry]:
        entries = dict(self.entries)
        rev = self.revision + 1
        pair = (owner.service_name, owner.instance)
        doomed = [k for k in sorted(entries) if entries[k][2] == pair]
        released = [entries.pop(k) for k in doomed]
        self.commit(entries, [("DELETE", (k, b"", None, 0, rev, 0), rev) for k in doomed])
        return released

    def commit(self, entries: dict[str, Entry], events: list[ModelEvent]) -> None:
        self.entries = entries
        if events:
            self.revision += 1
            self.history += events
            for watcher in self.watchers:
                watcher.offer(events)


def result_of(result: OperationResult) -> object:
    if isinstance(result, RangeResult):
        return [entry_of(kv) for kv in result.kvs]
    if isinstance(result, DeleteResult):
        return [entry_of(kv) for kv in result.deleted]
    assert isinstance(result, PutResult)
    return (entry_of(result.kv), None if result.previous is None else entry_of(result.previous))


class StoreMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.store = Store(
            check_owner=check_owner,
            history_max_events=HISTORY_EVENTS,
            watcher_max_events=WATCHER_EVENTS,
        )
        self.model = Model()
        self.watchers: list[tuple[Watcher, ModelWatcher]] = []
        self.woken: set[int] = set()

    def check_rejection(self, message: str, error: KeyValueError | None) -> None:
        assert error is not None, f"store accepted what the model rejects: {message}"
        assert message in str(error)

    @rule(ops=st.lists(puts, min_size=1, max_size=4))
    def put(self, ops: list[Put]) -> None:
        # Several puts per step: watchers fall behind and history wraps sooner.
        for op in ops:
            self.put_one(op)

    def put_one(self, op: Put) -> None:
        revision = self.store.revision
        try:
            expected = self.model.run([op])
        except Rejected as rejected:
            try:
                self.store.put(op)
            except KeyValueError as error:
                self.check_rejection(str(rejected), error)
            else:
                self.check_rejection(str(rejected), None)
            assert self.store.revision == revision
            return
        outcome = self.store.put(op)
        assert [result_of(outcome.result)] == expected
        assert outcome.revision == self.model.revision == revision + 1
        assert [event_of(e) for e in outcome.events] == self.model.history[-1:]

    @rule(keys=ranges)
    def delete_range(self, keys: KeyRange) -> None:
        before = len(self.model.history)
        expected = self.model.run([DeleteRange(keys=keys)])
        outcome = self.store.delete_range(keys)
        assert [result_of(outcome.result)] == expected
        assert outcome.revision == self.model.revision
        assert [event_of(e) for e in outcome.events] == self.model.history[before:]

    @rule(keys=ranges)
    def get_range(self, keys: KeyRange) -> None:
        expected = [e for k, e in sorted(self.model.entries.items()) if in_range(keys, k)]
        assert [entry_of(kv) for kv in self.store.range(keys).kvs] == expected
        assert self.store.count(keys) == len(expected)

    @rule(
        conds=st.lists(conditions(), max_size=3),
        on_success=st.lists(operations, max_size=4),
        on_failure=st.lists(operations, max_size=4),
    )
    def transaction(
        self, conds: list[Condition], on_success: list[Operation], on_failure: list[Operation]
    ) -> None:
        succeeded = all(holds(c, self.model.entries.get(c.key)) for c in conds)
        before = len(self.model.history)
        revision = self.model.revision
        try:
            expected = self.model.run(on_success if succeeded else on_failure)
        except Rejected as rejected:
            event("transaction rejected")
            try:
                self.store.transaction(conds, on_success, on_failure)
            except KeyValueError as error:
                self.check_rejection(str(rejected), error)
            else:
                self.check_rejection(str(rejected), None)
            assert self.store.revision == revision
            return
        outcome = self.store.transaction(conds, on_success, on_failure)
        event(f"transaction succeeded={succeeded}")
        assert outcome.result.succeeded == succeeded
        assert [result_of(r) for r in outcome.result.results] == expected
        assert outcome.revision == self.model.revision
        assert [event_of(e) for e in outcome.events] == self.model.history[before:]

    @rule(owner=st.sampled_from([*LIVE, DEAD]))
    def release_owner(self, owner: Owner) -> None:
        before = len(self.model.history)
        expected = self.model.release(owner)
        outcome = self.store.release_owner(owner)
        assert [entry_of(kv) for kv in outcome.result.deleted] == expected
        assert outcome.revision == self.model.revision
        assert [event_of(e) for e in outcome.events] == self.model.history[before:]

    @initialize()
    def watch_everything(self) -> None:
        self.watch(KeyRange(), None, None)

    @rule(
        keys=ranges,
        event_type=st.sampled_from([None, EventType.PUT, EventType.DELETE]),
        back=st.integers(0, 12) | st.none(),
    )
    def watch(self, keys: KeyRange, event_type: EventType | None, back: int | None) -> None:
        # back=None: from now on; else from that many revisions ago (maybe compacted).
        start = 0 if back is None else max(1, self.model.revision + 1 - back)
        watcher = self.store.watch(
            keys, event_type=event_type, start_revision=start, notify=self.on_notify
        )
        model = ModelWatcher(keys, None if event_type is None else event_type.value, start)
        if start and start < self.model.oldest_revision():
            event("watch from a compacted revision")
            assert watcher.canceled
            assert watcher.compact_revision == self.model.oldest_revision()
            assert watcher.take() == []
            return
        assert not watcher.canceled
        replay = [e for e in self.model.history if e[2] >= start] if start else []
        model.offer(replay, live=False)
        self.model.watchers.append(model)
        self.watchers.append((watcher, model))

    def on_notify(self, watcher: Watcher) -> None:
        self.woken.add(watcher.id)

    @precondition(lambda self: self.watchers)
    @rule(index=st.integers(0, 20))
    def take(self, index: int) -> None:
        watcher, model = self.watchers[index % len(self.watchers)]
        assert [event_of(e) for e in watcher.take()] == model.pending
        model.pending = []
        model.woken = False
        assert watcher.canceled == model.canceled
        if model.canceled:
            event("watcher fell behind")
        self.woken.discard(watcher.id)

    @precondition(lambda self: self.watchers)
    @rule(index=st.integers(0, 20))
    def cancel(self, index: int) -> None:
        watcher, model = self.watchers.pop(index % len(self.watchers))
        self.model.watchers.remove(model)
        self.store.cancel_watch(watcher)
        assert watcher.take() == []

    @invariant()
    def same_contents(self) -> None:
        assert self.store.revision == self.model.revision
        assert len(self.store) == len(self.model.entries)
        assert [entry_of(kv) for kv in self.store.range(KeyRange()).kvs] == [
            self.model.entries[k] for k in sorted(self.model.entries)
        ]

    @invariant()
    def same_owners(self) -> None:
        for owner in [*LIVE, DEAD]:
            pair = (owner.service_name, owner.instance)
            expected = tuple(
                k for k in sorted(self.model.entries) if self.model.entries[k][2] == pair
            )
            assert self.store.owned_keys(owner) == expected

    @invariant()
    def same_history_bound(self) -> None:
        assert self.store.oldest_revision == self.model.oldest_revision()

    @invariant()
    def watchers_agree(self) -> None:
        live = sum(1 for _, model in self.watchers if not model.canceled)
        assert self.store.watcher_count == live
        for watcher, model in self.watchers:
            assert watcher.pending == len(model.pending)
            assert watcher.canceled == model.canceled
            # Told of every live change since the last take; not of replays.
            assert (watcher.id in self.woken) == model.woken


StoreMachine.TestCase.settings = settings(max_examples=300, stateful_step_count=40, deadline=None)
test_store_matches_the_model = StoreMachine.TestCase
