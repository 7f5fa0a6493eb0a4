"""Settings of the web app, read from the environment (case-insensitive)."""

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    service_name: str = "web"
    http_port: int = 8000
    base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="where people open the app; Keycloak sends them back to <base_url>/callback",
    )
    registry_url: str = Field(default="http://127.0.0.1:8001", alias="ketnghia_registry_url")
    activities_url: str = Field(default="http://127.0.0.1:8002", alias="ketnghia_activities_url")
    reporting_url: str = Field(default="http://127.0.0.1:8003", alias="ketnghia_reporting_url")
    auth_issuer: str = Field(
        default="http://127.0.0.1:8180/realms/ketnghia",
        description="OIDC issuer people sign in at; default the local stack's Keycloak",
    )
    auth_jwks_url: str | None = Field(
        default=None,
        description="the issuer's keys; default <issuer>/protocol/openid-connect/certs",
    )
    auth_client_id: str = "ketnghia-web"
    auth_client_secret: SecretStr = SecretStr("ketnghia-web-local-secret")
    auth_leeway_seconds: float = Field(default=30, ge=0, le=300)
    session_hours: float = Field(default=10, gt=0, le=24, description="a signed-in session")
    service_timeout_seconds: float = Field(default=30, gt=0)
    log_level: str = "INFO"

    @property
    def secure_cookies(self) -> bool:
        """Cookies are `Secure` where the app is served over TLS."""
        return self.base_url.startswith("https://")
