"""DISPUTES_ENV=production refuses unsafe settings; CORS only when configured."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from disputes.api.app import create_app
from disputes.settings import Settings, UnsafeSettings, check_production, unsafe_for_production


def _settings(tmp_path: Path, **values: object) -> Settings:
    key = tmp_path / "signing.key"
    key.write_text("not read here")
    base: dict[str, object] = {
        "env": "production",
        "database_url": "postgresql://disputes@db.internal/disputes",
        "signing_key_file": key,
    }
    base.update(values)
    return Settings(**base)  # type: ignore[arg-type]


def test_safe_production_settings_pass(tmp_path: Path) -> None:
    check_production(_settings(tmp_path))


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ({"database_url": f"sqlite:///{tempfile.gettempdir()}/d.sqlite"}, "SQLite under a temporary"),
        ({"signing_key_file": None}, "DISPUTES_SIGNING_KEY_FILE is not set"),
        ({"signing_key_file": Path("/nonexistent/key")}, "no such file"),
        ({"debug": True}, "DISPUTES_DEBUG"),
    ],
)
def test_unsafe_production_settings_refuse_to_start(
    tmp_path: Path, values: dict[str, object], complaint: str
) -> None:
    settings = _settings(tmp_path, **values)
    assert any(complaint in found for found in unsafe_for_production(settings))
    with pytest.raises(UnsafeSettings, match=complaint):
        check_production(settings)


def test_create_app_refuses_before_opening_anything(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISPUTES_ENV", "production")
    monkeypatch.setenv("DISPUTES_DATABASE_URL", f"sqlite:///{tempfile.gettempdir()}/never-made/d.sqlite")
    monkeypatch.delenv("DISPUTES_SIGNING_KEY_FILE", raising=False)
    with pytest.raises(UnsafeSettings):
        create_app()
    assert not Path(tempfile.gettempdir(), "never-made").exists()


def test_outside_production_the_defaults_are_allowed() -> None:
    check_production(Settings(env="development", debug=True))


def test_cors_origins_are_a_comma_separated_list() -> None:
    assert Settings().cors_origin_list == []
    both = Settings(cors_origins="https://a.example, https://b.example")
    assert both.cors_origin_list == ["https://a.example", "https://b.example"]
