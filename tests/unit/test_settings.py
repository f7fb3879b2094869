import pytest
from pydantic import ValidationError

from sagawatch.settings import Settings


def test_well_known_variables_are_read_under_their_own_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://aurora.example/app")
    monkeypatch.setenv("AUDIT_DATABASE_URL", "postgresql://audit.example/audit")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    monkeypatch.setenv("SAGAWATCH_COLLECT_INTERVAL_S", "2.5")
    settings = Settings()
    assert settings.database_url == "postgresql://aurora.example/app"
    assert settings.audit_database_url == "postgresql://audit.example/audit"
    assert settings.otel_exporter_otlp_endpoint == "http://127.0.0.1:4318"
    assert settings.collect_interval_s == 2.5


def test_servers_bind_to_loopback_by_default() -> None:
    assert Settings().host == "127.0.0.1"


def test_a_bad_value_names_the_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAGAWATCH_HOST", "not an address")
    with pytest.raises(ValidationError) as info:
        Settings()
    assert "host" in str(info.value)
    assert "not an address" in str(info.value)


def test_stuck_thresholds_fall_back_to_the_default_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAGAWATCH_STUCK_THRESHOLDS_S", '{"default": 60, "order": 30}')
    settings = Settings()
    assert settings.stuck_threshold_s("order") == 30
    assert settings.stuck_threshold_s("something_new") == 60


@pytest.mark.parametrize("address", ["0.0.0.0", "10.1.2.3", "192.168.0.10"])
def test_a_non_loopback_address_is_refused(monkeypatch: pytest.MonkeyPatch, address: str) -> None:
    monkeypatch.setenv("SAGAWATCH_HOST", address)
    with pytest.raises(ValidationError, match="loopback"):
        Settings()


@pytest.mark.parametrize("address", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_any_loopback_address_is_accepted(monkeypatch: pytest.MonkeyPatch, address: str) -> None:
    monkeypatch.setenv("SAGAWATCH_HOST", address)
    assert Settings().host == address
