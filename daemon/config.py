"""Loading the settings: defaults < config.toml < CENTRALITA_<SECTION>__<KEY> variables.

pydantic-settings reads both sources: `TomlConfigSettingsSource` the file chosen by `--config` /
`CENTRALITA_CONFIG`, `EnvSettingsSource` the environment with the `CENTRALITA_` prefix and `__`
between section and key. List and table keys take JSON from the environment
(`CENTRALITA_AMI__TRUNK_CHANNELS='["Local/*@carrier-*"]'`). The domain only ever sees the plain
`models.core.settings.Settings`; every failure becomes a `ConfigError` naming the key.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeGuard, get_origin

from pydantic import BaseModel, SecretStr, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from models.core.settings import Settings

ENV_PREFIX = "CENTRALITA_"
ENV_NESTED_DELIMITER = "__"


class ConfigError(Exception):
    """The configuration file or an override is invalid; the message names the key."""


def default_config_path(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    return Path(env.get("CENTRALITA_CONFIG", "config.toml"))


class _SettingsFromSources(BaseSettings, Settings):
    """`Settings` as pydantic-settings builds it; turned into a plain `Settings` once valid."""

    model_config = SettingsConfigDict(
        extra="forbid",
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=ENV_NESTED_DELIMITER,
        case_sensitive=False,
    )


class _EnvJsonError(ValueError):
    """A list or table key's environment variable does not hold JSON."""

    def __init__(self, variable: str, value: str | None, expected: str) -> None:
        shown = "" if value is None else f" = {value!r}"
        super().__init__(f"environment variable {variable}{shown}: not valid JSON ({expected})")


class _EnvironmentSource(EnvSettingsSource):
    """The environment as given (os.environ or a test's mapping); bad JSON names its variable.

    Variables that are not keys (CENTRALITA_CONFIG, the start script's CENTRALITA_ADMIN_*, the
    tests' CENTRALITA_TEST_DB) match no field and are never read.
    """

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {
            (name if self.case_sensitive else name.lower()): value
            for name, value in self._environ.items()
        }

    def variable_for(self, path: tuple[str, ...]) -> str | None:
        """The variable that set the key at `path`, or the section holding it as JSON."""
        for length in range(len(path), 0, -1):
            name = self.env_prefix + ENV_NESTED_DELIMITER.join(path[:length])
            if self._apply_case_sensitive(name) in self.env_vars:
                return name.upper()
        return None

    def decode_complex_value(self, field_name: str, field: FieldInfo, value: Any) -> Any:
        # pydantic-settings passes None for a raw type (a table's value type), despite the hint.
        try:
            return super().decode_complex_value(field_name, field, value)
        except ValueError:
            variable = self._variable_holding(field_name, value)
            # A whole section's JSON may hold a secret: it is not echoed.
            is_section = _is_model(getattr(field, "annotation", None))
            shown = None if is_section else value
            raise _EnvJsonError(variable, shown, _json_example(field)) from None

    def _variable_holding(self, field_name: str, value: Any) -> str:
        ends = (self.env_prefix + field_name, ENV_NESTED_DELIMITER + field_name)
        for name, held in self.env_vars.items():
            if held == value and name.endswith(tuple(map(self._apply_case_sensitive, ends))):
                return name.upper()
        return (self.env_prefix + field_name).upper()


_JSON_EXAMPLES = {
    "list_type": 'a JSON list, e.g. ["Local/*@carrier-*"]',
    "dict_type": 'a JSON object, e.g. {"SIP/150010001": "201"}',
    "model_type": 'a JSON object, e.g. {"port": 5038}',
}


def _is_model(annotation: Any) -> TypeGuard[type[BaseModel]]:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _json_example(field: FieldInfo | None) -> str:
    annotation = field.annotation if field is not None else None
    if annotation is not None and get_origin(annotation) is list:
        return "expected " + _JSON_EXAMPLES["list_type"]
    if annotation is not None and get_origin(annotation) is dict:
        return "expected " + _JSON_EXAMPLES["dict_type"]
    return "expected " + _JSON_EXAMPLES["model_type"]


class _FileSource(TomlConfigSettingsSource):
    """config.toml; a table key the environment sets is replaced, not merged key by key."""

    def __call__(self) -> dict[str, Any]:
        return _drop_tables_set_elsewhere(Settings, super().__call__(), self.current_state)


def _drop_tables_set_elsewhere(
    model: type[BaseModel], data: dict[str, Any], override: dict[str, Any]
) -> dict[str, Any]:
    result = dict(data)
    for name, field in model.model_fields.items():
        if name not in result or name not in override:
            continue
        annotation = field.annotation
        if _is_model(annotation):
            if isinstance(result[name], dict) and isinstance(override[name], dict):
                result[name] = _drop_tables_set_elsewhere(annotation, result[name], override[name])
        elif get_origin(annotation) is dict:
            del result[name]
    return result


def _read_sources(
    path: Path | None, environ: Mapping[str, str]
) -> tuple[_FileSource | None, _EnvironmentSource]:
    env_source = _EnvironmentSource(_SettingsFromSources, environ)
    if path is None:
        return None, env_source
    try:
        file_source = _FileSource(_SettingsFromSources, toml_file=path)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML: {err}") from None
    except OSError as err:
        raise ConfigError(f"{path}: cannot be read: {err.strerror}") from None
    return file_source, env_source


def _key_of(loc: tuple[int | str, ...]) -> str:
    """`[ami] port`, `[ami] trunk_channels[0]` or `data_dir`: as the key is written in the file."""
    names = [str(part) for part in loc]
    if len(names) == 1:
        field = Settings.model_fields.get(names[0])
        return f"[{names[0]}]" if field is not None and _is_model(field.annotation) else names[0]
    key = f"[{names[0]}] {names[1]}"
    return key + "".join(f"[{part}]" for part in names[2:])


def _is_secret(loc: tuple[int | str, ...]) -> bool:
    model: Any = Settings
    for part in loc:
        field = model.model_fields.get(part) if isinstance(part, str) else None
        if field is None:
            return False
        if field.annotation is SecretStr:
            return True
        model = field.annotation
        if not _is_model(model):
            return False
    return False


def _shown(loc: tuple[int | str, ...], value: Any) -> Any:
    """The value for an error message, with every secret inside it hidden."""
    if _is_secret(loc):
        return "<hidden>"
    if isinstance(value, dict):
        return {key: _shown((*loc, key), item) for key, item in value.items()}
    return value


def _describe(error: Any, env_source: _EnvironmentSource) -> str:
    loc = tuple(error["loc"])
    key = _key_of(loc)
    variable = env_source.variable_for(tuple(str(part) for part in loc if isinstance(part, str)))
    origin = f" (set by {variable})" if variable else ""
    if error["type"] == "extra_forbidden":
        return f"{key}: unknown key{origin}"
    value = _shown(loc, error.get("input"))
    hint = ""
    if variable and error["type"] in _JSON_EXAMPLES:
        hint = f"; from the environment give {_JSON_EXAMPLES[error['type']]}"
    return f"{key} = {value!r}: {error['msg']}{hint}{origin}"


def _config_file(path: Path | None, environ: Mapping[str, str]) -> Path | None:
    """The file to read: an explicit one must exist; a missing ./config.toml means none."""
    path = path if path is not None else default_config_path(environ)
    if path.exists():
        if not path.is_file():
            raise ConfigError(f"{path}: cannot be read: not a file")
        return path
    if path != default_config_path({}) or "CENTRALITA_CONFIG" in environ:
        raise ConfigError(f"{path}: configuration file not found")
    return None


def load_settings(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read, merge and validate the configuration; raise ConfigError naming each bad key."""
    env = os.environ if environ is None else environ
    shown_path = path if path is not None else default_config_path(env)
    config_file = _config_file(path, env)
    file_source, env_source = _read_sources(config_file, env)
    sources = (env_source, file_source) if file_source is not None else (env_source,)
    try:
        loaded = _SettingsFromSources(_build_sources=(sources, {}))
    except SettingsError as err:
        cause = err.__cause__
        raise ConfigError(str(cause if isinstance(cause, _EnvJsonError) else err)) from None
    except ValidationError as err:
        lines = [_describe(e, env_source) for e in err.errors()]
        raise ConfigError(
            f"invalid configuration in {shown_path}:\n  " + "\n  ".join(lines)
        ) from None
    settings = Settings.model_construct(_fields_set=loaded.model_fields_set, **dict(loaded))
    _resolve_relative_paths(settings, config_file.parent if config_file else Path.cwd())
    return settings


def _resolve_relative_paths(settings: Settings, base: Path) -> None:
    """A relative data_dir or SQLite file is relative to the config file (else the cwd)."""
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
