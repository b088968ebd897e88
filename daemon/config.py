"""Loading the settings: defaults < config.toml < CENTRALITA_<SECTION>__<KEY> variables."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from models.core.settings import Settings

ENV_PREFIX = "CENTRALITA_"


class ConfigError(Exception):
    """The configuration file or an override is invalid; the message names the key."""


def default_config_path(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    return Path(env.get("CENTRALITA_CONFIG", "config.toml"))


# Top-level settings that are plain values, not sections: CENTRALITA_<KEY> sets them.
_TOP_LEVEL_KEYS = {
    name
    for name, field in Settings.model_fields.items()
    if not (isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel))
}


def _env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    """CENTRALITA_<SECTION>__<KEY> and CENTRALITA_<TOP_LEVEL_KEY> variables as nested dicts.

    Other CENTRALITA_* variables (CENTRALITA_CONFIG, the start script's CENTRALITA_ADMIN_*,
    the tests' CENTRALITA_TEST_DB) are not configuration keys and are left alone.
    """
    result: dict[str, Any] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        path = [part.lower() for part in name[len(ENV_PREFIX) :].split("__") if part]
        if not path or (len(path) == 1 and path[0] not in _TOP_LEVEL_KEYS):
            continue
        node = result
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"environment variable {name}: {part} is not a section")
        node[path[-1]] = value
    return result


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _describe(error: dict[str, Any], source: dict[str, Any]) -> str:
    loc = [str(part) for part in error["loc"]]
    key = ".".join(loc)
    if len(loc) > 1:
        key = f"[{'.'.join(loc[:-1])}] {loc[-1]}"
    value: Any = source
    for part in error["loc"]:
        value = value.get(part) if isinstance(value, dict) else None
    if error["type"] == "extra_forbidden":
        return f"{key}: unknown key"
    if error["type"].endswith("secret_type") or any(
        word in loc[-1] for word in ("secret", "token", "password")
    ):
        value = "<hidden>"
    return f"{key} = {value!r}: {error['msg']}"


def load_settings(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read, merge and validate the configuration; raise ConfigError naming each bad key."""
    env = os.environ if environ is None else environ
    path = path if path is not None else default_config_path(env)
    data: dict[str, Any] = {}
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as err:
            raise ConfigError(f"{path}: not valid TOML: {err}") from None
        except OSError as err:
            raise ConfigError(f"{path}: cannot be read: {err.strerror}") from None
    elif path != default_config_path({}) or "CENTRALITA_CONFIG" in env:
        raise ConfigError(f"{path}: configuration file not found")
    merged = _merge(data, _env_overrides(env))
    try:
        settings = Settings.model_validate(merged)
    except ValidationError as err:
        lines = [_describe(e, merged) for e in err.errors()]
        raise ConfigError(f"invalid configuration in {path}:\n  " + "\n  ".join(lines)) from None
    base = path.parent if path.exists() else Path.cwd()
    if not settings.data_dir.is_absolute():
        settings.data_dir = (base / settings.data_dir).resolve()
    url = settings.database.url
    if (
        url.startswith("sqlite://")
        and not url.startswith("sqlite:///")
        and url != "sqlite://:memory:"
    ):
        rel = url[len("sqlite://") :]
        settings.database.url = f"sqlite://{(base / rel).resolve()}"
    return settings
