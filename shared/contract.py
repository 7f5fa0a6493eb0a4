"""The published event contract: the data of every event type on the platform's topics, as
pydantic models. Consumers validate what they read against it (an event that fails goes to
the dead-letter topic); the JSON Schemas other agencies read are generated from it.

The domains decide these models (an `Event` holds one; its type follows from the model's
class, `CONTRACT` read both ways), the event store writes them as JSON (`to_json`) and
reads them back (`parse`), and the consumers dispatch on their classes.

A type's shape never changes silently: a new shape is a new version (`...v2`), added here
beside the old one.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from types import NoneType, UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import msgspec
from faststream.kafka import KafkaBroker
from pydantic import BaseModel, ConfigDict, Field

from shared.bounds import (
    MAX_AMOUNT,
    MAX_BENEFICIARY_ROWS,
    MAX_COMMITMENTS,
    MAX_CONTRIBUTIONS,
    MAX_DISTRICT_COMMUNES,
    MAX_EVIDENCE,
    MAX_LEGAL_BASES,
    MAX_MEMBERS,
    MAX_VND,
    PROVINCE_CODE_PATTERN,
    YEAR_MAX,
    YEAR_MIN,
    CommuneCode,
    Count,
    Description,
    Evidence,
    Id,
    Label,
    Name,
    Reason,
    Vnd,
    Year,
)
from shared.consumer import Poison, Validator
from shared.editions import Edition
from shared.envelope import Envelope
from shared.events import ACTIVITY_EVENTS, PERIOD_EVENTS, PLAN_EVENTS, REGISTRY_EVENTS

Province = Annotated[str, Field(pattern=PROVINCE_CODE_PATTERN)]


class Data(BaseModel):
    """Producers may add fields in a compatible way; consumers ignore what they do not know."""

    model_config = ConfigDict(extra="allow")


class Commune(Data):
    edition: Edition
    code: CommuneCode


class Target(Data):
    kind: Literal["commune", "village", "district"]
    edition: Edition
    code: CommuneCode
    village_id: Id | None = None
    name: Name | None = Field(default=None, description="a district's name (added compatibly)")
    communes: list[CommuneCode] | None = Field(
        default=None,
        max_length=MAX_DISTRICT_COMMUNES,
        description="a district's pre-2025 communes' codes (added compatibly)",
    )


class LegalBasis(Data):
    number: Name
    issued_on: date
    issuer: Name


class Period(Data):
    start_year: Year
    end_year: Year


class Membership(Data):
    sponsor_unit_id: Id
    joined_on: date
    left_on: date | None = None


# -- registry ---------------------------------------------------------------------------
class SponsorUnitRegistered(Data):
    sponsor_unit_id: Id
    province: Province
    name: Name
    kind: Label
    parent_id: Id | None = None


class ProgrammeCreated(Data):
    programme_id: Id
    province: Province
    name: Name
    period: Period
    scope: Description
    legal_bases: list[LegalBasis] = Field(max_length=MAX_LEGAL_BASES)


class LegalBasisAdded(Data):
    programme_id: Id
    legal_basis: LegalBasis


class VillageRegistered(Data):
    village_id: Id
    province: Province
    commune: Commune
    kind: Label
    name: Name


class CommuneClassified(Data):
    province: Province
    commune: Commune
    kind: Label
    value: bool | int | Decimal
    effective_on: date
    source: Name


class AssignmentCreated(Data):
    assignment_id: Id
    programme_id: Id
    period: Period
    province: Province
    target: Target
    legal_basis: LegalBasis | None
    members: list[Membership] = Field(min_length=1, max_length=MAX_MEMBERS)
    leads: dict[str, Id] = Field(max_length=YEAR_MAX - YEAR_MIN + 1)
    continues: Id | None = Field(
        default=None,
        description="the district assignment this one carries on after 1 July 2025 "
        "(added compatibly)",
    )


class LeadAssigned(Data):
    year: Year
    sponsor_unit_id: Id


class MemberLeft(Data):
    sponsor_unit_id: Id
    left_on: date


class TargetSucceeded(Data):
    model_config = ConfigDict(validate_by_name=True)  # `from_=` in Python, "from" in JSON

    to: Target
    reason: Reason
    from_: Target = Field(alias="from")


class AssignmentEnded(Data):
    ended_on: date
    reason: Reason


class Successor(Data):
    code: str
    name: str
    province_code: str
    share: Literal["whole", "part"]
    is_default: bool


class LineagePublished(Data):
    """What a pre-2025 commune became on 1 July 2025, from the administrative dataset."""

    dataset: str
    old: Commune
    old_name: str
    old_province_code: str
    successors: list[Successor]


# -- activities ---------------------------------------------------------------------------
class Contribution(Data):
    sponsor_unit_id: Id
    value_vnd: Vnd


class Quantity(Data):
    amount: Decimal = Field(gt=0, le=MAX_AMOUNT)
    unit: Label


class Beneficiaries(Data):
    count: Count
    kind: Label
    group: Label


class ActivityFacts(Data):
    activity_id: Id
    assignment_id: Id
    commune: Commune
    village_id: Id | None = None
    occurred_on: date
    category: Label
    description: Description
    value_vnd: Vnd
    contributions: list[Contribution] = Field(min_length=1, max_length=MAX_CONTRIBUTIONS)
    funding_source: Label
    quantity: Quantity | None = None
    beneficiaries: list[Beneficiaries] = Field(default=[], max_length=MAX_BENEFICIARY_ROWS)
    evidence: list[Evidence] = Field(default=[], max_length=MAX_EVIDENCE)
    commitment_id: Id | None = None


class ActivityRecorded(ActivityFacts):
    province: Province


class ActivityCorrected(ActivityFacts):
    reason: Reason


class ActivityVoided(Data):
    activity_id: Id
    reason: Reason


class CommitmentData(Data):
    commitment_id: Id
    description: Description
    category: Label | None = None
    quarter: int | None = Field(default=None, ge=1, le=4)
    planned_value_vnd: int | None = Field(
        default=None, ge=0, le=MAX_VND, description="added compatibly"
    )
    planned_quantity: Quantity | None = Field(default=None, description="added compatibly")


class PlanCreated(Data):
    assignment_id: Id
    year: Year
    province: Province
    commitments: list[CommitmentData] = Field(max_length=MAX_COMMITMENTS)


class CommitmentAdded(CommitmentData):
    assignment_id: Id
    year: Year


class PeriodLocked(Data):
    lock_id: Id
    province: Province
    year: Year
    quarter: int | None = Field(default=None, ge=1, le=4)
    commune: Commune | None = None
    reason: Reason
    by: Name


class PeriodUnlocked(Data):
    lock_id: Id
    province: Province
    reason: Reason
    by: Name


REGISTRY = REGISTRY_EVENTS
CONTRACT: dict[str, type[Data]] = {
    REGISTRY + "sponsor_unit.registered.v1": SponsorUnitRegistered,
    REGISTRY + "programme.created.v1": ProgrammeCreated,
    REGISTRY + "programme.legal_basis_added.v1": LegalBasisAdded,
    REGISTRY + "village.registered.v1": VillageRegistered,
    REGISTRY + "commune.classified.v1": CommuneClassified,
    REGISTRY + "lineage.published.v1": LineagePublished,
    REGISTRY + "assignment.created.v1": AssignmentCreated,
    REGISTRY + "assignment.lead_assigned.v1": LeadAssigned,
    REGISTRY + "assignment.member_joined.v1": Membership,
    REGISTRY + "assignment.member_left.v1": MemberLeft,
    REGISTRY + "assignment.target_succeeded.v1": TargetSucceeded,
    REGISTRY + "assignment.ended.v1": AssignmentEnded,
    ACTIVITY_EVENTS + "recorded.v1": ActivityRecorded,
    ACTIVITY_EVENTS + "corrected.v1": ActivityCorrected,
    ACTIVITY_EVENTS + "voided.v1": ActivityVoided,
    PLAN_EVENTS + "created.v1": PlanCreated,
    PLAN_EVENTS + "commitment_added.v1": CommitmentAdded,
    PERIOD_EVENTS + "locked.v1": PeriodLocked,
    PERIOD_EVENTS + "unlocked.v1": PeriodUnlocked,
}

EVENT_TYPES: dict[type[Data], str] = {model: name for name, model in CONTRACT.items()}
"""`CONTRACT` the other way: each model's event type (each model is one type's alone)."""


@dataclass(frozen=True)
class Event:
    """A fact a domain decided: its data is one of the contract's models, and its type is
    that model's, so no event can carry the data of another type."""

    data: Data
    json: dict[str, Any] | None = field(default=None, compare=False, repr=False)
    """`to_json(data)`, when the domain has it written out already (an import records
    thousands: dumping each model again costs more than the rest of recording it)."""

    @property
    def type(self) -> str:
        return EVENT_TYPES[type(self.data)]


class EventSourced:
    """What every aggregate does with what it decides: apply it to itself (state changes
    only there, whether the event is new or read back), then keep it pending until a
    repository saves it (`shared.unit_of_work`)."""

    pending: list[Event]

    def apply(self, event: Event) -> None:
        raise NotImplementedError

    def _record(self, data: Data, json: dict[str, Any] | None = None) -> None:
        event = Event(data, json)
        self.apply(event)
        self.pending.append(event)


def to_json(data: Data) -> dict[str, Any]:
    """The data as JSON carries it (the event store, Kafka): dates and decimals as text,
    `from` by its alias, and only the fields the producer set, so a field added compatibly
    stays out of the events that never had it, as before the models were the payloads."""
    return data.model_dump(mode="json", by_alias=True, exclude_unset=True)


def parse(event_type: str, data: Any) -> Data:
    """Stored or received JSON data as its type's model (validated: `ValidationError`)."""
    return CONTRACT[event_type].model_validate(data)


def declare_published(kafka: KafkaBroker, topic: str, prefixes: tuple[str, ...]) -> None:
    """Describe in the service's AsyncAPI document what it publishes on `topic` (the
    outbox relay publishes; this only documents): the data of every type it may carry."""
    models = tuple(model for name, model in CONTRACT.items() if name.startswith(prefixes))
    kafka.publisher(
        topic,
        title=f"{topic}:Publish",
        description=(
            "CloudEvents 1.0 in Kafka binary mode (ce_ headers, JSON data), key = the commune "
            "as recorded. Attributes: envelope.schema.json (optional actor, actorname, "
            "actorrole, actorunit: who made the change). Types: "
            + ", ".join(n for n in CONTRACT if n.startswith(prefixes))
        ),
        schema=Union[models],  # noqa: UP007 - a Union of a runtime tuple needs the subscript
        include_in_schema=True,
    )


def check(event_type: str, data: Any) -> None:
    """`Poison` when the type is unknown or the data does not fit its contract model,
    read strictly as JSON, as the published JSON Schemas read it (`true` is no integer).

    The check runs on structures generated from the models (msgspec): a consumer checks
    every event it reads, a rebuild millions, and the models' own validation costs about
    60 µs an event here against 15. A test holds the two to the same verdicts; the models
    stay the one definition, and the JSON Schemas come from them."""
    checker = _CHECKERS.get(event_type)
    if checker is None:
        raise Poison(f"unknown event type {event_type!r}")
    try:
        msgspec.convert(data, checker, strict=True)
    except msgspec.ValidationError as error:
        raise Poison(f"{event_type}: {error}") from error


def _checker(model: type[BaseModel]) -> Any:
    """A msgspec structure that accepts what `model` accepts (fields, types, bounds,
    patterns, lengths, aliases, defaults; unknown fields ignored)."""
    fields, bounds = [], {}
    for name, info in model.model_fields.items():
        meta = _meta(info.metadata)
        kind = _checked_type(info.annotation)
        if meta and Decimal in (kind, *get_args(kind)):  # msgspec bounds no Decimal
            bounds[name] = meta  # checked after conversion
        elif meta:
            kind = _constrained(kind, msgspec.Meta(**meta))
        default = msgspec.NODEFAULT if info.is_required() else info.default
        fields.append((name, kind, msgspec.field(default=default, name=info.alias or name)))

    def check_bounds(self: Any) -> None:
        for name, meta in bounds.items():
            value = getattr(self, name)
            if value is not None and not _within(value, meta):
                raise ValueError(f"`{name}` must be {meta}")

    namespace = {"__post_init__": check_bounds} if bounds else {}
    return msgspec.defstruct(model.__name__, fields, kw_only=True, namespace=namespace)


def _meta(constraints: Any) -> dict[str, Any]:
    """The bounds among pydantic's constraints (`Field(...)`'s or annotated-types'), as
    msgspec names them."""
    meta: dict[str, Any] = {}
    for constraint in constraints:
        parts = getattr(constraint, "metadata", None) or [constraint]  # a FieldInfo's own
        for part in parts:
            for key in ("ge", "gt", "le", "lt", "min_length", "max_length", "pattern"):
                if getattr(part, key, None) is not None:
                    meta[key] = getattr(part, key)
    if str(meta.get("pattern", "")).endswith("$"):  # Python's `$` also takes a final "\n"
        meta["pattern"] = meta["pattern"][:-1] + r"\Z"
    return meta


def _checked_type(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _checker(annotation)
    arguments = get_args(annotation)
    origin = get_origin(annotation)
    if origin is Annotated:  # a bounded item of a list: list[Evidence], list[CommuneCode]
        meta = _meta(arguments[1:])
        kind = _checked_type(arguments[0])
        return _constrained(kind, msgspec.Meta(**meta)) if meta else kind
    if origin in (Union, UnionType):
        return Union[tuple(_checked_type(a) for a in arguments)]  # noqa: UP007
    if origin is list:
        return list[_checked_type(arguments[0])]  # type: ignore[misc]
    if origin is dict:
        return dict[_checked_type(arguments[0]), _checked_type(arguments[1])]  # type: ignore[misc]
    return annotation  # str, int, bool, date, Decimal, Literal[...]


def _constrained(kind: Any, meta: msgspec.Meta) -> Any:
    """`kind` with `meta`; for `X | None`, on X."""
    if get_origin(kind) in (Union, UnionType):
        return Union[tuple(m if m is NoneType else _constrained(m, meta) for m in get_args(kind))]  # noqa: UP007
    return Annotated[kind, meta]


def _within(value: Any, meta: dict[str, Any]) -> bool:
    return (
        ("gt" not in meta or value > meta["gt"])
        and ("ge" not in meta or value >= meta["ge"])
        and ("lt" not in meta or value < meta["lt"])
        and ("le" not in meta or value <= meta["le"])
    )


_CHECKERS = {event_type: _checker(model) for event_type, model in CONTRACT.items()}


def checker(event_type: str) -> Any:
    """The msgspec structure `check` holds `event_type`'s data to (for a decoder that
    checks while it reads)."""
    return _CHECKERS[event_type]


def validator() -> Validator:
    """For `shared.consumer.subscribe`: every event must be a known type with valid data."""

    def validate(envelope: Envelope) -> None:
        check(envelope.type, envelope.data)

    return validate
