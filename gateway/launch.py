"""Before serving beyond this machine: no development credentials (`gridline serve`)."""
from __future__ import annotations

import ipaddress

import sqlalchemy as sa


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def dev_credentials(rt, demo_users: tuple[str, ...], demo_password: str) -> list[str]:
    """What would let a stranger in: the instance's own Twilio dev token, demo accounts still
    switched on with the published demo password."""
    from werkzeug.security import check_password_hash

    from models import User

    found = []
    if rt.settings.dev_twilio_token:
        found.append("未设置 TWILIO_AUTH_TOKEN（正在使用开发令牌）")
    with rt.db.session() as session:
        users = session.scalars(sa.select(User).where(User.username.in_(demo_users), User.active.is_(True))).all()
        open_demo = [u.username for u in users if check_password_hash(u.password_hash, demo_password)]
    if open_demo:
        found.append(f"演示账号仍可用演示密码登录（{', '.join(open_demo)}；gridline users disable 用户名）")
    return found
