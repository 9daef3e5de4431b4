"""Staff notices respect people's time: one notice per person per event, even for someone in
both the handling team and an informed team."""
from __future__ import annotations

import sqlalchemy as sa

from tests.conftest import RESIDENT_G1, outbox

ZENG = "+8613905710032"  # 曾红梅, 网格员 of 湖畔社区第1网格


def test_a_person_in_two_teams_told_of_one_case_gets_one_notice(phone, rt, demo):
    from models import Member, Team
    from workers import directory

    with rt.db.session() as session:  # she also sits in 区住建局, which is informed of leaks
        housing = session.scalar(sa.select(Team).where(Team.code == "DH-HOUSI"))
        session.add(Member(phone=ZENG, name="曾红梅", team_id=housing.id, role="leader", active=True))
    directory.invalidate()
    phone.text(RESIDENT_G1, "我家楼上漏水好几天了，物业不管")
    notices = outbox(rt, to=ZENG, kind="team_notice")
    assert len(notices) == 1 and notices[0].body.startswith("【网格通】新案件100001")
