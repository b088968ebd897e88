"""The key that seals kept secrets: made once, private, and a wrong key reads nothing."""

import os
import stat

import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError

from models.core.secret_box import SecretBox, SecretUnreadable, secret_box_for
from models.core.settings import Settings


def test_a_sealed_password_is_not_in_the_stored_text_and_opens_with_the_same_key(tmp_path):
    box = secret_box_for("", tmp_path)
    sealed = box.seal("contraseña-de-aplicación")
    assert "contraseña" not in sealed and "aplicaci" not in sealed
    # The same installation, started again, reads it: the key was kept in data_dir.
    assert secret_box_for("", tmp_path).open(sealed) == "contraseña-de-aplicación"


def test_the_generated_key_file_is_private_to_the_service_user(tmp_path):
    secret_box_for("", tmp_path)
    mode = stat.S_IMODE(os.stat(tmp_path / "encryption_key").st_mode)
    assert mode == 0o600


def test_another_key_or_a_damaged_value_is_reported_not_garbled(tmp_path):
    sealed = secret_box_for("", tmp_path).seal("s3cret")
    other = SecretBox(Fernet.generate_key())
    with pytest.raises(SecretUnreadable):
        other.open(sealed)
    with pytest.raises(SecretUnreadable):
        secret_box_for("", tmp_path).open(sealed[:-4] + "AAAA")
    assert "s3cret" not in repr(other)


def test_a_configured_key_wins_over_the_file_and_a_bad_one_names_the_key(tmp_path):
    key = Fernet.generate_key().decode()
    sealed = secret_box_for(key, tmp_path).seal("x")
    assert not (tmp_path / "encryption_key").exists()
    assert SecretBox(key.encode()).open(sealed) == "x"
    with pytest.raises(ValidationError) as err:
        Settings.model_validate({"security": {"encryption_key": "not-a-key"}})
    assert "encryption_key" in str(err.value) and "Fernet" in str(err.value)
    assert "not-a-key" not in str(Settings.model_validate({"security": {"encryption_key": key}}))
