from __future__ import annotations

from pathlib import Path

import pytest

from dossier.app import create_app
from dossier.config import Settings, UnsafeSettingsError


def make(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_embedded_defaults_need_no_configuration(tmp_path: Path) -> None:
    settings = make(data_dir=tmp_path)
    assert settings.env == "development"
    assert settings.host == "127.0.0.1"
    assert settings.port == 8000
    assert settings.sqlalchemy_url == f"sqlite+aiosqlite:///{tmp_path.resolve()}/dossier.db"
    assert settings.redis_url is None
    settings.check_safe()


def test_development_secret_is_generated_once_and_kept(tmp_path: Path) -> None:
    first = make(data_dir=tmp_path).signing_secret
    second = make(data_dir=tmp_path).signing_secret
    assert first == second
    assert len(first) >= 32
    secret_file = tmp_path / "secret_key"
    assert secret_file.read_text() == first
    assert secret_file.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u@h:5432/db", "postgresql+asyncpg://u@h:5432/db"),
        ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("sqlite:///x.db", "sqlite+aiosqlite:///x.db"),
    ],
)
def test_database_urls_select_the_async_driver(given: str, expected: str) -> None:
    assert make(database_url=given).sqlalchemy_url == expected


@pytest.mark.parametrize(
    "raw", ["https://a.example, https://b.example", '["https://a.example", "https://b.example"]']
)
def test_lists_accept_comma_separated_or_json_environment_values(
    monkeypatch: pytest.MonkeyPatch, raw: str
) -> None:
    monkeypatch.setenv("DOSSIER_CORS_ORIGINS", raw)

    settings = Settings(_env_file=None)
    assert settings.cors_origins == ["https://a.example", "https://b.example"]


def test_production_names_every_unsafe_value(tmp_path: Path) -> None:
    settings = make(
        env="production",
        data_dir=tmp_path,
        secret_key="short",
        debug=True,
        cors_origins=["*"],
        cors_allow_credentials=True,
    )
    with pytest.raises(UnsafeSettingsError) as caught:
        settings.check_safe()
    message = str(caught.value)
    for name in (
        "DOSSIER_SECRET_KEY is shorter",
        "DOSSIER_DATABASE_URL points at SQLite",
        "DOSSIER_DEBUG",
        "DOSSIER_CORS_ORIGINS",
        "DOSSIER_DOCS_ENABLED",
        "DOSSIER_METRICS_TOKEN",
    ):
        assert name in message
    assert len(caught.value.problems) == 6


def test_production_refuses_a_missing_secret_and_never_generates_one(tmp_path: Path) -> None:
    settings = make(env="production", data_dir=tmp_path)
    assert "DOSSIER_SECRET_KEY is not set" in settings.production_problems()
    with pytest.raises(UnsafeSettingsError):
        _ = settings.signing_secret
    assert not (tmp_path / "secret_key").exists()


def test_production_with_safe_values_starts(tmp_path: Path) -> None:
    settings = make(
        env="production",
        data_dir=tmp_path,
        secret_key="x" * 40,
        database_url="postgresql://dossier@db/dossier",
        docs_enabled=False,
        metrics_token="m" * 32,
    )
    settings.check_safe()
    app = create_app(settings, configure_logs=False)
    assert app.openapi_url is None


def test_create_app_refuses_unsafe_production_settings(tmp_path: Path) -> None:
    with pytest.raises(UnsafeSettingsError):
        create_app(make(env="production", data_dir=tmp_path), configure_logs=False)


def test_explicit_allowances_make_sqlite_and_docs_acceptable(tmp_path: Path) -> None:
    settings = make(
        env="production",
        data_dir=tmp_path,
        secret_key="y" * 40,
        allow_sqlite_in_production=True,
        allow_docs_in_production=True,
        metrics_enabled=False,
    )
    assert settings.production_problems() == []


@pytest.mark.parametrize(("value", "accepted"), [(-1, True), (1, True), (0, False), (-2, False)])
def test_pool_recycle_is_never_or_a_positive_age(value: int, accepted: bool) -> None:
    if accepted:
        assert make(database_pool_recycle_seconds=value).database_pool_recycle_seconds == value
    else:
        with pytest.raises(ValueError, match="database_pool_recycle_seconds"):
            make(database_pool_recycle_seconds=value)
