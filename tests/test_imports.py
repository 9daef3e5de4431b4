"""CSV imports: upsert by code or phone, line-numbered rejections, never half a row."""
from __future__ import annotations

import sqlalchemy as sa
from click.testing import CliRunner

from models import Area, Member, Resident, Team


def run(app, *args):
    from gateway import cli as cli_module

    cli_module._app.cache_clear()
    original = cli_module._app
    cli_module._app = lambda: app  # the test's app, on the test database
    try:
        return CliRunner().invoke(cli_module.cli, list(args), catch_exceptions=False)
    finally:
        cli_module._app = original


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_areas_any_depth_parents_later_in_file_and_idempotent(app, rt, tmp_path):
    csv = write(tmp_path, "areas.csv",
                "code,name,level,parent_code\n"
                "G1,幸福社区第1网格,grid,C1\n"
                "D,测试区,district,\n"
                "S1,和平街道,street,D\n"
                "C1,幸福社区,community,S1\n"
                "B1,3号楼,building,G1\n")
    result = run(app, "import", "areas", csv)
    assert "新增 5，更新 0，未变 0，拒绝 0" in result.output, result.output
    result = run(app, "import", "areas", csv)
    assert "新增 0，更新 0，未变 5，拒绝 0" in result.output
    with rt.db.session() as session:
        building = Area.by_code(session, "B1")
        assert [a.code for a in building.lineage()] == ["B1", "G1", "C1", "S1", "D"]


def test_bad_rows_are_rejected_with_line_and_reason_good_rows_kept(app, rt, tmp_path, demo):
    csv = write(tmp_path, "residents.csv",
                "phone,name,area_code,address\n"
                "13912345678,王五,DH-S1-C1-G1,湖滨路1号\n"
                "12345,赵六,DH-S1-C1-G1,湖滨路2号\n"
                "13912345679,钱七,NOPE,湖滨路3号\n"
                ",孙八,DH-S1-C1-G1,\n"
                "+86 139 1234 5680,周九,DH-S1-C1-G2,湖滨路5号,多余\n"
                "0086 139 1234 5681,吴十,DH-S1-C1-G2,湖滨路6号\n")
    result = run(app, "import", "residents", csv, "--json")
    import json

    report = json.loads(result.output)
    assert (report["created"], report["updated"]) == (2, 0)
    assert [(r["line"], r["reason"].split(" ")[0]) for r in report["rejected"]] == [
        (3, "phone:"), (4, "区域"), (5, "phone"), (6, "列数多于表头")]
    with rt.db.session() as session:
        phones = set(session.scalars(sa.select(Resident.phone).where(Resident.name.in_(["王五", "吴十"]))))
    assert phones == {"+8613912345678", "+8613912345681"}


def test_one_phone_three_spellings_is_one_resident(app, rt, tmp_path, demo):
    for spelling in ("13912340000", "+86 139 1234 0000", "0086-139-1234-0000"):
        run(app, "import", "residents", write(tmp_path, "r.csv", f"phone,name,area_code,address\n{spelling},李雷,DH-S1-C1-G1,\n"))
    with rt.db.session() as session:
        assert session.scalars(sa.select(Resident).where(Resident.phone == "+8613912340000")).one().name == "李雷"


def test_header_missing_columns_rejects_the_file(app, tmp_path):
    result = run(app, "import", "teams", write(tmp_path, "t.csv", "code,name\nX,Y\n"))
    assert result.exit_code == 2
    assert "表头缺少列: kind, area_code" in result.output


def test_teams_members_unknown_kind_role_and_team(app, rt, tmp_path, demo):
    teams = run(app, "import", "teams", write(tmp_path, "t.csv",
                "code,name,kind,area_code\nT1,新团队,grid_team,DH-S1-C1-G1\nT2,怪团队,space_force,DH\n"))
    assert "新增 1" in teams.output and "第 3 行: 未知团队类型 'space_force'" in teams.output
    members = run(app, "import", "members", write(tmp_path, "m.csv",
                  "phone,name,team_code,role\n13911110000,甲,T1,leader\n13911110001,乙,T1,boss\n13911110002,丙,T9,member\n"))
    assert "新增 1" in members.output and "第 3 行: role 'boss'" in members.output and "第 4 行: 团队 'T9' 不存在" in members.output
    with rt.db.session() as session:
        team = session.scalars(sa.select(Team).where(Team.code == "T1")).one()
        assert [m.name for m in session.scalars(sa.select(Member).where(Member.team_id == team.id))] == ["甲"]


def test_not_utf8_is_a_clear_error(app, tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes("code,name,level,parent_code\nD,测试区,district,\n".encode("gbk"))
    result = run(app, "import", "areas", str(path))
    assert result.exit_code == 2 and "UTF-8" in result.output


def test_demo_loads_the_whole_district(app, rt):
    result = run(app, "demo")
    # 15 areas and 32 residents, plus the training grid (湖畔社区培训网格) and its two residents
    assert "areas: 新增 16" in result.output and "residents: 新增 34" in result.output
    with rt.db.session() as session:
        kinds = set(session.scalars(sa.select(Team.kind)))
    from models.team import STOCK_TEAM_KINDS

    assert kinds == set(STOCK_TEAM_KINDS)
