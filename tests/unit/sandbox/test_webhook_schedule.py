"""Which updates the webhook loop POSTs when: per-chat order, max_connections, backoff."""

from __future__ import annotations

from sandbox.config import SandboxConfig
from sandbox.state import SandboxState, Webhook


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def world(max_connections: int = 40) -> tuple[SandboxState, Clock]:
    clock = Clock()
    config = SandboxConfig(webhook_retry_initial=1.0, webhook_retry_max=5.0)
    state = SandboxState(config, clock=clock)
    state.set_webhook(
        Webhook(url="http://127.0.0.1:1/hook", token="1:x", max_connections=max_connections),
        drop_pending_updates=False,
    )
    return state, clock


def message(state: SandboxState, chat_id: int) -> int:
    return state.queue_update("message", {"chat": {"id": chat_id}, "text": "hi"})


def due_ids(state: SandboxState) -> list[int]:
    return [update["update_id"] for _, update in state.due_deliveries()[0]]


def test_one_update_per_chat_in_flight_and_the_next_after_a_2xx() -> None:
    state, _ = world()
    a1, a2, b1 = message(state, 1), message(state, 1), message(state, 2)

    assert due_ids(state) == [a1, b1]
    assert due_ids(state) == [], "nothing more while both chats have one in flight"

    state.delivery_succeeded(1, {"update_id": a1}, 200)
    assert due_ids(state) == [a2]
    assert [u["update_id"] for u in state.updates] == [a2, b1]


def test_max_connections_counts_every_chat() -> None:
    state, _ = world(max_connections=2)
    ids = [message(state, chat) for chat in (1, 2, 3)]

    assert due_ids(state) == ids[:2]
    state.delivery_succeeded(2, {"update_id": ids[1]}, 200)
    assert due_ids(state) == [ids[2]]
    assert state.webhook_stats.peak_in_flight == 2


def test_failures_back_off_exponentially_up_to_the_cap_and_keep_the_order() -> None:
    state, clock = world()
    first, second = message(state, 1), message(state, 1)
    delays = []
    for _ in range(5):
        assert due_ids(state) == [first]
        delays.append(state.delivery_failed(1, {"update_id": first}, 500, "boom"))
        due, wake = state.due_deliveries()
        assert due == [] and wake == clock.now + delays[-1]
        clock.now += delays[-1]

    assert delays == [1.0, 2.0, 4.0, 5.0, 5.0]
    assert state.webhook_info()["pending_update_count"] == 2
    assert state.webhook_info()["last_error_message"] == "boom"
    state.delivery_succeeded(1, {"update_id": first}, 200)
    assert due_ids(state) == [second], "after a success the chat has no backoff left"


def test_a_failing_chat_does_not_hold_up_the_others() -> None:
    state, _ = world()
    a1, b1 = message(state, 1), message(state, 2)
    assert due_ids(state) == [a1, b1]

    state.delivery_failed(1, {"update_id": a1}, None, "Connection refused")
    state.delivery_succeeded(2, {"update_id": b1}, 200)
    b2 = message(state, 2)

    assert due_ids(state) == [b2]


def test_nothing_is_due_without_a_webhook() -> None:
    state, _ = world()
    message(state, 1)
    state.delete_webhook(drop_pending_updates=False)

    assert state.due_deliveries() == ([], None)
    assert len(state.updates) == 1
