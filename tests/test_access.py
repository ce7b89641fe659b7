"""Who may charge where and when: the pure decisions (cards, windows, lists)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings, strategies as st

from custom_components.homecharge.logic.access import (
    AccessMode,
    AccessWindow,
    AuthorizationStatus,
    Card,
    Person,
    Right,
    authorize,
    cable_moved,
    card_holder,
    local_instants,
    local_list,
    mobile_number,
    next_change,
    person_errors,
    person_from,
    person_of_user,
    person_tag,
    refusal,
    revoked,
    taken_cards,
    who_unlocks,
    window_error,
    window_from,
)

OSLO = ZoneInfo("Europe/Oslo")
NOW = datetime(2026, 7, 1, 12, tzinfo=UTC)


def _renter(**changes: object) -> Person:
    fields: dict[str, object] = {
        "key": "renter",
        "name": "Kari",
        "chargers": frozenset({"CP-1"}),
        "window": AccessWindow(NOW - timedelta(hours=1), NOW + timedelta(days=2)),
        "cards": (Card("ABC123"),),
    }
    fields.update(changes)
    return Person(**fields)  # type: ignore[arg-type]


def test_a_card_is_accepted_on_its_chargers_inside_the_window() -> None:
    renter = _renter()
    answer = authorize([renter], charger="CP-1", tag="abc123", now=NOW)
    assert answer.status is AuthorizationStatus.ACCEPTED
    assert answer.person is renter
    # The answer holds until the window ends (the card has no expiry).
    assert answer.expires == NOW + timedelta(days=2)


def test_a_card_is_refused_elsewhere_and_outside_the_window() -> None:
    renter = _renter()
    elsewhere = authorize([renter], charger="CP-2", tag="ABC123", now=NOW)
    assert elsewhere.status is AuthorizationStatus.BLOCKED
    early = authorize(
        [renter], charger="CP-1", tag="ABC123", now=NOW - timedelta(hours=2)
    )
    assert early.status is AuthorizationStatus.BLOCKED
    late = authorize(
        [renter], charger="CP-1", tag="ABC123", now=NOW + timedelta(days=2)
    )
    assert late.status is AuthorizationStatus.EXPIRED


def test_an_expired_card_and_an_unknown_card() -> None:
    renter = _renter(cards=(Card("ABC123", NOW - timedelta(seconds=1)),))
    expired = authorize([renter], charger="CP-1", tag="ABC123", now=NOW)
    assert expired.status is AuthorizationStatus.EXPIRED
    unknown = authorize([renter], charger="CP-1", tag="XYZ", now=NOW)
    assert unknown == authorize([], charger="CP-1", tag="XYZ", now=NOW)
    assert unknown.status is AuthorizationStatus.INVALID
    assert unknown.person is None


def test_an_open_charger_accepts_every_card_and_names_the_known() -> None:
    renter = _renter()
    known = authorize(
        [renter], charger="CP-9", tag="ABC123", now=NOW, mode=AccessMode.OPEN
    )
    assert known.status is AuthorizationStatus.ACCEPTED
    assert known.person is renter
    stranger = authorize([renter], charger="CP-9", tag="Q", now=NOW, mode="open")
    assert stranger.status is AuthorizationStatus.ACCEPTED
    assert stranger.person is None
    # A mode not known is the safe side: restricted.
    odd = authorize([renter], charger="CP-9", tag="Q", now=NOW, mode="lax")
    assert odd.status is AuthorizationStatus.INVALID


def test_a_card_on_two_people_is_nobodys() -> None:
    """The forms refuse it; should it happen anyway, it opens nothing."""
    first, second = _renter(key="a"), _renter(key="b")
    answer = authorize([first, second], charger="CP-1", tag="ABC123", now=NOW)
    assert answer.status is AuthorizationStatus.INVALID
    assert local_list([first, second], charger="CP-1", now=NOW) == {}
    assert taken_cards(["abc123 ", "NEW"], [first], except_key="b") == ["abc123 "]
    assert taken_cards(["abc123"], [first], except_key="a") == []


def test_the_local_list_holds_what_works_now_until_it_stops() -> None:
    family = Person(
        key="family",
        name="Ola",
        chargers=frozenset({"CP-1", "CP-2"}),
        cards=(Card("FAM-1"), Card("FAM-2", NOW + timedelta(days=30))),
    )
    renter = _renter(cards=(Card("R-1", NOW + timedelta(days=5)),))
    coming = _renter(
        key="next",
        window=AccessWindow(NOW + timedelta(days=3), None),
        cards=(Card("N-1"),),
    )
    old = _renter(key="old", cards=(Card("OLD", NOW - timedelta(days=1)),))
    people = [family, renter, coming, old]
    assert local_list(people, charger="CP-1", now=NOW) == {
        "FAM-1": None,
        "FAM-2": NOW + timedelta(days=30),
        # The window ends before the card does.
        "R-1": NOW + timedelta(days=2),
    }
    assert local_list(people, charger="CP-2", now=NOW) == {
        "FAM-1": None,
        "FAM-2": NOW + timedelta(days=30),
    }
    # The lists change next when the renter's window ends.
    assert next_change(people, NOW) == NOW + timedelta(days=2)
    assert next_change([family], NOW + timedelta(days=31)) is None


def test_windows_that_cannot_be_given() -> None:
    assert window_error(AccessWindow(NOW, NOW), NOW) == "window_reversed"
    assert window_error(AccessWindow(NOW, NOW - timedelta(minutes=1)), NOW) == (
        "window_reversed"
    )
    assert window_error(AccessWindow(None, NOW), NOW) == "window_ended"
    assert window_error(AccessWindow(None, NOW + timedelta(minutes=1)), NOW) is None
    assert window_error(AccessWindow(), NOW) is None
    assert AccessWindow().forever


def test_local_times_in_the_place_zone_across_the_clock_changes() -> None:
    # An ordinary summer evening: 18:00 in Oslo is 16:00 UTC.
    summer = window_from("2026-07-03 18:00", "2026-07-05 12:00", OSLO)
    assert summer.start == datetime(2026, 7, 3, 16, tzinfo=UTC)
    assert summer.end == datetime(2026, 7, 5, 10, tzinfo=UTC)
    # 2026-10-25 02:30 happens twice in Oslo (00:30 and 01:30 UTC): a window
    # starting then starts at the second, one ending then ends at the first.
    autumn = "2026-10-25 02:30"
    assert local_instants(autumn, OSLO) == (
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
        datetime(2026, 10, 25, 1, 30, tzinfo=UTC),
    )
    assert window_from(autumn, None, OSLO).start == datetime(
        2026, 10, 25, 1, 30, tzinfo=UTC
    )
    assert window_from(None, autumn, OSLO).end == datetime(
        2026, 10, 25, 0, 30, tzinfo=UTC
    )
    # 2026-03-29 02:30 never happens in Oslo: read the shorter way too.
    spring = "2026-03-29 02:30"
    earliest, latest = local_instants(spring, OSLO)
    assert earliest < latest
    assert window_from(spring, None, OSLO).start == latest
    assert window_from(None, spring, OSLO).end == earliest
    # A window across the spring change is an hour shorter than its wall time.
    night = window_from("2026-03-28 22:00", "2026-03-29 10:00", OSLO)
    assert night.start is not None
    assert night.end is not None
    assert night.end - night.start == timedelta(hours=11)
    # An aware value is taken as it is.
    moment = datetime(2026, 1, 1, 8, tzinfo=UTC)
    assert local_instants(moment, OSLO) == (moment, moment)


def test_a_person_from_subentry_data() -> None:
    person = person_from(
        "sub1",
        "Kari",
        {
            "chargers": ["CP-1"],
            "window_start": "2026-07-03 18:00",
            "window_end": "2026-07-05 12:00",
            "cards": "ABC123, DEF456;ABC123",
            "card_expiry": "2026-07-04 12:00",
        },
        OSLO,
    )
    assert person.chargers == frozenset({"CP-1"})
    assert person.window.start == datetime(2026, 7, 3, 16, tzinfo=UTC)
    expiry = datetime(2026, 7, 4, 10, tzinfo=UTC)
    assert person.cards == (Card("ABC123", expiry), Card("DEF456", expiry))
    family = person_from("sub2", "Ola", {"chargers": ["CP-1"]}, OSLO)
    assert family.window.forever
    assert family.cards == ()


# The invariant: nobody is ever let in outside his window, off his chargers or
# with an expired card, whatever the people, cards and moment.

_HOURS = st.integers(min_value=-72, max_value=72)
_CHARGERS = st.sampled_from(["CP-1", "CP-2", "CP-3"])
_TAGS = st.sampled_from(["A", "b", "C", "a", "D"])


@st.composite
def _people(draw: st.DrawFn) -> list[Person]:
    people = []
    for number in range(draw(st.integers(min_value=0, max_value=4))):
        start, end = (
            draw(st.one_of(st.none(), _HOURS)),
            draw(st.one_of(st.none(), _HOURS)),
        )
        cards = tuple(
            Card(tag, None if hours is None else NOW + timedelta(hours=hours))
            for tag, hours in draw(
                st.lists(st.tuples(_TAGS, st.one_of(st.none(), _HOURS)), max_size=3)
            )
        )
        people.append(
            Person(
                key=str(number),
                name=str(number),
                chargers=frozenset(draw(st.sets(_CHARGERS))),
                window=AccessWindow(
                    None if start is None else NOW + timedelta(hours=start),
                    None if end is None else NOW + timedelta(hours=end),
                ),
                cards=cards,
            )
        )
    return people


@settings(max_examples=400, deadline=None)
@given(
    people=_people(),
    charger=_CHARGERS,
    tag=_TAGS,
    minutes=st.integers(min_value=-5000, max_value=5000),
)
def test_nobody_is_let_in_outside_his_window(
    people: list[Person], charger: str, tag: str, minutes: int
) -> None:
    now = NOW + timedelta(minutes=minutes)
    answer = authorize(people, charger=charger, tag=tag, now=now)
    if answer.status is AuthorizationStatus.ACCEPTED:
        person = answer.person
        assert person is not None
        assert charger in person.chargers
        assert person.window.contains(now)
        (card,) = [c for c in person.cards if c.tag.casefold() == tag.casefold()]
        assert card.expires is None or now < card.expires
        # The answer says when it stops holding, never later than it does.
        for limit in (card.expires, person.window.end):
            assert limit is None or (
                answer.expires is not None and answer.expires <= limit
            )
    # What the charger may decide alone agrees with what we would answer,
    # at every moment until the expiry the list gives it.
    for listed, expires in local_list(people, charger=charger, now=now).items():
        assert (
            authorize(people, charger=charger, tag=listed, now=now).status
            is AuthorizationStatus.ACCEPTED
        )
        if expires is not None:
            last = expires - timedelta(seconds=1)
            if last >= now:
                assert (
                    authorize(people, charger=charger, tag=listed, now=last).status
                    is AuthorizationStatus.ACCEPTED
                )


def test_a_stored_mode_and_an_open_chargers_list() -> None:
    assert AccessMode.of(None) is AccessMode.OPEN
    assert AccessMode.of("open") is AccessMode.OPEN
    assert AccessMode.of("restricted") is AccessMode.RESTRICTED
    assert AccessMode.of("lax") is AccessMode.RESTRICTED  # the safe side
    assert local_list([_renter()], charger="CP-1", now=NOW, mode="open") == {}
    assert local_list([_renter()], charger="CP-1", now=NOW) == {
        "ABC123": NOW + timedelta(days=2)
    }


def test_a_persons_form_checked() -> None:
    """Each bad field gets its key; a good form none."""
    good = {
        "name": "Kari",
        "mobile": "+47 912 34 567",
        "chargers": ["CP-1"],
        "cards": ["NEW"],
    }

    def check(data: dict[str, object], key: str | None = None) -> dict[str, str]:
        return person_errors(data, others=[_renter()], key=key, zone=OSLO, now=NOW)

    assert check(good) == {}
    assert mobile_number("+47 (912) 34-567") == "+4791234567"
    bad = {
        "name": " ",
        "mobile": "91234567",
        "email": "kari@",
        "chargers": [],
        "window_start": "2026-07-05 12:00",
        "window_end": "2026-07-04 12:00",
        "card_expiry": "2026-06-30 12:00",
        "cards": ["abc123"],
    }
    assert check(bad) == {
        "name": "name_empty",
        "mobile": "invalid_mobile",
        "email": "invalid_email",
        "chargers": "no_chargers",
        "window_end": "window_reversed",
        "card_expiry": "card_expired",
        "cards": "card_taken",
    }
    # Changing the renter himself: his own card is not taken.
    mine = {**good, "cards": ["ABC123"]}
    assert check(mine, key="renter") == {}
    assert check({**good, "cards": ["X" * 37]}) == {"cards": "id_tag_too_long"}
    # Whose card: nobody's without a tag, and never two people's.
    assert card_holder([_renter()], None) is None
    assert card_holder([_renter()], "abc123") == _renter()
    assert card_holder([_renter(), _renter(key="twin")], "ABC123") is None


def test_home_assistants_start_tag_names_the_person() -> None:
    """A person's tag fits OCPP 1.6 (20 characters) and finds the person back."""
    key = "01JE9Z6X4W3V2T1S0R9Q8P7N6M"
    renter = _renter(key=key)
    assert len(person_tag(key)) <= 20
    assert renter.tag == person_tag(key)
    assert card_holder([renter], renter.tag.lower()) is renter
    # HA's tag is no card: refused when shown at a restricted charger.
    answer = authorize([renter], charger="CP-1", tag=renter.tag, now=NOW)
    assert answer.status is AuthorizationStatus.INVALID
    assert renter.tag not in local_list([renter], charger="CP-1", now=NOW)


def test_who_unlocks_is_someone_allowed_there_now() -> None:
    """Near is not enough: the charger and the window must be the person's too."""
    kari = _renter(key="kari", name="Kari")
    ola = _renter(key="ola", name="Ola", chargers=frozenset({"CP-2"}))
    later = _renter(
        key="later", name="Anne", window=AccessWindow(NOW + timedelta(hours=1))
    )
    people = [kari, ola, later]
    assert who_unlocks(people, [], charger="CP-1", now=NOW) is None
    assert who_unlocks(people, ["ola", "later"], charger="CP-1", now=NOW) is None
    assert who_unlocks(people, ["ola", "kari"], charger="CP-1", now=NOW) is kari
    assert (
        who_unlocks(
            people, ["later", "kari"], charger="CP-1", now=NOW + timedelta(hours=2)
        )
        is later
    )


def test_a_moved_cable_is_told_from_a_car_that_pauses() -> None:
    """Only a restricted charger, a running session, and the connector newly free."""
    restricted, open_ = AccessMode.RESTRICTED, AccessMode.OPEN
    assert cable_moved(
        mode=restricted, running=True, previous="Charging", status="Available"
    )
    assert not cable_moved(
        mode=open_, running=True, previous="Charging", status="Available"
    )
    assert not cable_moved(
        mode=restricted, running=False, previous="Finishing", status="Available"
    )
    assert not cable_moved(
        mode=restricted, running=True, previous="Charging", status="SuspendedEV"
    )
    assert not cable_moved(
        mode=restricted, running=True, previous="Available", status="Available"
    )


def test_a_user_is_one_persons_and_a_phone_must_be_one() -> None:
    """An HA user on two people, or a phone that is no identity, is refused."""
    kari = _renter(key="kari", user="user-1")
    form = {
        "name": "Ola",
        "mobile": "+4791234567",
        "chargers": ["CP-1"],
        "user": "user-1",
        "phone": "my iphone",
    }
    errors = person_errors(form, others=[kari], key=None, zone=OSLO, now=NOW)
    assert errors == {"user": "user_taken", "phone": "invalid_phone"}
    assert (
        person_errors(
            form | {"phone": None}, others=[kari], key="kari", zone=OSLO, now=NOW
        )
        == {}
    )
    assert person_of_user([kari], "user-1") is kari
    assert person_of_user([kari], None) is None
    kept = person_from("k", "Kari", {"phone": "irk:" + "ab" * 16, "user": "u"}, OSLO)
    assert kept.phone is not None
    assert kept.user == "u"


def test_a_guests_rights_are_his_chargers_inside_his_window() -> None:
    """Charging and smart charging, there and then; never a setting."""
    renter = _renter()
    assert refusal(renter, Right.CHARGE, charger="CP-1", now=NOW) is None
    assert refusal(renter, Right.SMART_CHARGING, charger="CP-1", now=NOW) is None
    assert (
        refusal(renter, Right.SETTINGS, charger="CP-1", now=NOW) == "guest_not_allowed"
    )
    assert refusal(renter, Right.CHARGE, charger=None, now=NOW) == "guest_not_allowed"
    assert refusal(renter, Right.CHARGE, charger="CP-2", now=NOW) == "guest_not_here"
    later = NOW + timedelta(days=3)
    assert (
        refusal(renter, Right.CHARGE, charger="CP-1", now=later)
        == "guest_outside_window"
    )


@given(
    st.lists(
        st.tuples(
            st.integers(-48, 48),  # window start, hours from NOW (or none)
            st.integers(0, 96),  # its length in hours
            st.booleans(),  # forever
            st.frozensets(st.sampled_from(["CP-1", "CP-2"]), max_size=2),
            st.booleans(),  # his phone is near
        ),
        max_size=6,
    ),
    st.integers(-72, 72),
)
def test_nobody_outside_his_window_is_let_in_by_his_phone(
    people: list[tuple[int, int, bool, frozenset[str], bool]], offset: int
) -> None:
    """Whoever unlocks a charger is allowed there, inside his window, and near."""
    now = NOW + timedelta(hours=offset)
    persons = [
        _renter(
            key=f"p{n}",
            name=f"P{n}",
            chargers=chargers,
            window=AccessWindow()
            if forever
            else AccessWindow(
                NOW + timedelta(hours=start), NOW + timedelta(hours=start + length)
            ),
        )
        for n, (start, length, forever, chargers, _near) in enumerate(people)
    ]
    near = [f"p{n}" for n, person in enumerate(people) if person[4]]
    for charger in ("CP-1", "CP-2"):
        chosen = who_unlocks(persons, near, charger=charger, now=now)
        allowed = [p for p in persons if p.key in near and p.may_charge(charger, now)]
        assert (chosen is None) == (not allowed)
        if chosen is not None:
            assert chosen.key in near
            assert charger in chosen.chargers
            assert chosen.window.contains(now)


def test_revoking_ends_the_window_now() -> None:
    """A start that has passed stays; one still to come goes (never reversed)."""
    now = datetime(2026, 7, 1, 14, 30, 12, 500, tzinfo=OSLO)
    past = {"window_start": "2026-06-30 12:00:00", "window_end": None, "cards": ["A"]}
    assert revoked(past, now) == {
        "window_start": "2026-06-30 12:00:00",
        "window_end": "2026-07-01 14:30:12",
        "cards": ["A"],
    }
    later = revoked({"window_start": "2026-07-05 12:00:00"}, now)
    assert later["window_start"] is None
    window = window_from(later["window_start"], later["window_end"], OSLO)
    assert window.ended(now.astimezone(UTC))
