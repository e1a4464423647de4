import pytest

from scanstation.custody.duties import assert_different_user, assert_may_qc, assert_may_receive
from scanstation.errors import InvalidInput, Refused
from tests.conftest import add_user
from tests.test_custody_fixtures import add_dossier, number_for


def test_r24_clerk_qc_own_dossier_refused(home, sessions):
    row = add_dossier(
        home, number_for(2024, "D10", 1), status="completed", scanned_by="clerk1", completed_by="clerk1", qc_by=""
    )
    with pytest.raises(Refused) as refused:
        assert_may_qc(sessions["clerk1"], row)
    assert "clerk1" in refused.value.en and row["number"] in refused.value.zh
    assert_may_qc(sessions["qc1"], row)  # another user may


def test_r24_page_operator_may_not_qc(home, sessions):
    # scanned_by names clerk2, but clerk1 captured a rescanned page: clerk1 may not QC either
    row = add_dossier(
        home,
        number_for(2024, "D10", 2),
        status="completed",
        scanned_by="clerk2",
        completed_by="clerk2",
        operator="clerk1",
        qc_by="",
    )
    with pytest.raises(Refused):
        assert_may_qc(sessions["clerk1"], row)
    with pytest.raises(Refused):
        assert_may_qc(sessions["clerk2"], row)


def test_r36_receive_by_own_qc_refused(home, sessions):
    row = add_dossier(home, number_for(2024, "D10", 3), status="transferred", qc_by="qc1")
    with pytest.raises(Refused):
        assert_may_receive(sessions["qc1"], row)
    with pytest.raises(Refused):
        assert_may_receive(sessions["clerk1"], row)
    assert_may_receive(sessions["archivist1"], row)


def test_r36_field_with_several_names(home, sessions):
    row = {"number": "N1", "scanned_by": "clerk2, clerk1"}
    with pytest.raises(Refused):
        assert_different_user(sessions["clerk1"], row, "scanned_by")
    assert_different_user(sessions["qc1"], row, "scanned_by")
    assert_different_user(sessions["clerk1"], {"number": "N1", "scanned_by": ""}, "scanned_by")


def test_unknown_duty_field(home, sessions):
    with pytest.raises(InvalidInput):
        assert_different_user(sessions["qc1"], {"number": "N"}, "approved_by")


def test_r36_user_with_two_roles_still_one_person(home):
    from scanstation.service import Session

    both = add_user(home, "clerkqc", "clerk qc")
    row = add_dossier(
        home, number_for(2024, "D10", 4), status="completed", scanned_by="clerkqc", completed_by="clerkqc", qc_by=""
    )
    with pytest.raises(Refused):
        assert_may_qc(Session(home, both), row)
