"""What the labelling page shows, read fresh from the campaign database on every request.

:func:`label_view` gathers the current round (items in pick order, every annotator's current
answer), the progress counts, the disagreements and the proposal's state into one plain dict
that the templates render and ``/api/state`` returns. Its ``version`` changes whenever anything
an open page shows changes, so a page polls cheaply and redraws only then.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import uuid
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import quote

from batchbald.campaign import Campaign

__all__ = [
    "ItemView",
    "class_keys",
    "image_url",
    "label_view",
    "page_url",
    "propose_view",
    "state_json",
]

SKIPPED = "skipped"


def image_url(item_id: str) -> str:
    """The address of an item's image (``/items/<id>``, the id percent-encoded).

    >>> image_url("cats/a b#1.png")
    '/items/cats/a%20b%231.png'
    """
    return "/items/" + quote(item_id, safe="/")


def page_url(item_id: str) -> str:
    """The labelling page focused on ``item_id``."""
    return "/?item=" + quote(item_id, safe="")


@dataclass(frozen=True)
class ItemView:
    """One item of the round as the page shows it.

    Attributes:
        item_id: the item's stable id.
        position: 1-based place in the pick order.
        score: the acquisition score it was picked with.
        mine: this annotator's current answer: a class, ``"skipped"``, or None.
        others: the other annotators' current answers, by name.
        assigned: annotators the item was sent to.
    """

    item_id: str
    position: int
    score: float
    mine: str | None
    others: dict[str, str]
    assigned: tuple[str, ...]

    @property
    def state(self) -> str:
        """``mine``, ``skipped``, ``others`` (answered by someone else) or ``todo``."""
        if self.mine is not None:
            return SKIPPED if self.mine == SKIPPED else "mine"
        return "others" if self.others else "todo"

    @property
    def image_url(self) -> str:
        """See :func:`image_url`."""
        return image_url(self.item_id)

    @property
    def page_url(self) -> str:
        """See :func:`page_url`."""
        return page_url(self.item_id)


def _answer(answer: Any) -> str:
    return answer.label if answer.kind == "label" else SKIPPED


def _round_items(campaign: Campaign, round_: Any, annotator: str, assigned: dict) -> list:
    answers = campaign.answers_by_annotator()
    views = []
    for item in round_.items:
        by_who = {who: _answer(e) for who, e in sorted(answers.get(item.item_id, {}).items())}
        mine = by_who.pop(annotator, None)
        who_for = tuple(assigned.get(item.item_id, ()))
        views.append(ItemView(item.item_id, item.position + 1, item.score, mine, by_who, who_for))
    return views


def _elapsed_s(started_at: str | None) -> float | None:
    """Seconds since the ISO time ``started_at`` (None when unknown)."""
    if started_at is None:
        return None
    start = datetime.datetime.fromisoformat(started_at)
    return max(0.0, (datetime.datetime.now(datetime.timezone.utc) - start).total_seconds())


def propose_view(campaign: Campaign, runner: Any = None) -> dict[str, Any]:
    """The proposal's state as the page shows it.

    Returns:
        ``state`` (idle/running/failed), ``phase``, ``fraction`` and ``message``. This server's
        proposal thread (``runner``, a :class:`~batchbald.campaign.web.jobs.ProposeRunner`)
        shows as running from its start, and its failure shows even where the database does
        not record one.
    """
    state = campaign.propose_state()
    view = {"state": state.state, "phase": state.phase, "fraction": state.fraction}
    view["message"] = state.message
    view["elapsed_s"] = _elapsed_s(state.started_at) if state.state == "running" else None
    if runner is not None and state.state != "running":
        if runner.running:
            view.update(state="running", phase="starting", fraction=0.0, elapsed_s=0.0)
        elif runner.error is not None:
            view.update(state="failed", message=runner.error)
    return view


def _focus(items: list[ItemView], wanted: str | None) -> ItemView | None:
    for item in items:
        if item.item_id == wanted:
            return item
    return next((item for item in items if item.mine is None), None)


def _neighbours(items: list[ItemView], focus: ItemView | None) -> tuple[str | None, str | None]:
    ids = [item.item_id for item in items]
    if not ids:
        return None, None
    if focus is None:
        return ids[-1], None
    at = ids.index(focus.item_id)
    return (ids[at - 1] if at > 0 else None), (ids[at + 1] if at + 1 < len(ids) else None)


def _version(*parts: Any) -> str:
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def class_keys(count: int) -> list[str | None]:
    """The keys of ``count`` class buttons: 1–9, then 0 for the tenth, then none (Tab).

    >>> class_keys(3), class_keys(11)[8:]
    (['1', '2', '3'], ['9', '0', None])
    """
    keys: list[str | None] = [str(i + 1) for i in range(min(count, 9))]
    return keys + (["0"] if count >= 10 else []) + [None] * max(0, count - 10)


def _item_part(items: list[ItemView], focus_id: str | None) -> dict[str, Any]:
    focus = _focus(items, focus_id)
    prev_id, next_id = _neighbours(items, focus)
    return {
        "batch": items,
        "focus": focus,
        "prev_id": prev_id,
        "next_id": next_id,
        "total": len(items),
        "mine_done": sum(item.mine is not None for item in items),
        "round_complete": bool(items) and focus is None,
    }


def _count_part(campaign: Campaign, progress: dict[str, Any]) -> dict[str, Any]:
    per_class = [(name, progress["per_class"].get(name, 0)) for name in campaign.classes]
    return {
        "team_done": progress["done"],
        "skipped": progress["skipped"],
        "classes": list(zip(class_keys(len(campaign.classes)), campaign.classes, strict=True)),
        "per_class": per_class,
        "max_class": max((count for _, count in per_class), default=0),
        "labelled_total": sum(count for _, count in per_class),
        "per_annotator": sorted(progress["per_annotator"].items()),
        "disagreement_count": len(campaign.disagreements()),
    }


def label_view(
    campaign: Campaign, annotator: str, focus_id: str | None = None, runner: Any = None
) -> dict[str, Any]:
    """Everything the labelling page shows for ``annotator`` (see the module docstring).

    Args:
        campaign: the open campaign.
        annotator: the (already validated) name of who is looking.
        focus_id: the item to show large; default: the first one this annotator has not
            answered, in pick order (None when all are answered).
        runner: this server's proposal runner (see :func:`propose_view`).

    Returns:
        A dict with the round, its items (:class:`ItemView`), the focus and its neighbours,
        counts, class keys, the proposal's state, ``version`` and fresh ``request_ids``.
    """
    round_ = campaign.current_round()
    progress = campaign.progress()
    items = _round_items(campaign, round_, annotator, progress["assigned"]) if round_ else []
    view = {"annotator": annotator, "round": round_, "batch_size": campaign.settings.batch_size}
    view.update(_item_part(items, focus_id))
    view.update(_count_part(campaign, progress))
    view["propose"] = propose_view(campaign, runner)
    shared = [asdict(item) for item in items], view["per_class"], view["per_annotator"]
    view["version"] = _version(
        round_.number if round_ else None, shared, view["disagreement_count"]
    )
    view["request_ids"] = {name: uuid.uuid4().hex for name in ("label", "skip", "undo", "propose")}
    return view


def state_json(view: dict[str, Any]) -> dict[str, Any]:
    """The JSON-able part of a :func:`label_view` that ``/api/state`` returns."""
    round_ = view["round"]
    keys = ("annotator", "version", "total", "mine_done", "team_done", "skipped", "propose")
    state = {key: view[key] for key in keys}
    state["round"] = round_.number if round_ else None
    state["per_class"] = dict(view["per_class"])
    state["disagreements"] = view["disagreement_count"]
    state["items"] = [
        {"item_id": i.item_id, "position": i.position, "score": i.score, "mine": i.mine,
         "others": i.others, "assigned": list(i.assigned)}
        for i in view["batch"]
    ]  # fmt: skip
    return state
