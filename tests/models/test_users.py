import pytest

from models.core.errors import AuthenticationFailed, Conflict, ValidationFailed
from models.people import users as user_ops
from models.people.permissions import has_right, is_admin


async def test_setup_creates_company_and_admin(db):
    admin = await user_ops.setup_crm("Acme Telecom", "ana", "long-password", "100")
    await admin.fetch_related("group")
    assert is_admin(admin)
    assert (await user_ops.get_company()).name == "Acme Telecom"
    assert admin.password_hash.startswith("$argon2")
    with pytest.raises(Conflict):
        await user_ops.setup_crm("Other", "bob", "long-password", "200")


async def test_setup_refuses_non_latin_name(db):
    with pytest.raises(ValidationFailed) as err:
        await user_ops.setup_crm("Центральная", "ana", "long-password", "100")
    assert "name" in err.value.fields


async def test_authenticate(world):
    user = await user_ops.authenticate("luis", world.password)
    assert user.id == world.luis.id
    with pytest.raises(AuthenticationFailed):
        await user_ops.authenticate("luis", "wrong-password")
    with pytest.raises(AuthenticationFailed):
        await user_ops.authenticate("nobody", "whatever-123")


async def test_duplicate_extension_names_the_owner(world):
    with pytest.raises(Conflict) as err:
        await user_ops.create_user("pepe", "long-password", extension="101")
    assert "luis" in str(err.value)


async def test_agent_rights_are_limited(world):
    assert not has_right(world.luis, "clients.view_all")
    assert has_right(world.ana, "clients.view_all")
    group = await user_ops.create_group("Supervisors", ["clients.view_all", "calls.view_all"])
    assert group.rights == ["calls.view_all", "clients.view_all"]
    with pytest.raises(ValidationFailed):
        await user_ops.create_group("Bad", ["fly"])
