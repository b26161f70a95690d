"""Platform registrations, their deployments, the tool's signing keys and registration invites."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_tool.db import Base, UTCDateTime, str_enum, utcnow


class DeploymentStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DISABLED = "disabled"


class Registration(Base):
    """One client_id of one platform (issuer); an issuer may have several."""

    __tablename__ = "registrations"
    __table_args__ = (UniqueConstraint("issuer", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(String(255), comment="the platform's iss claim")
    client_id: Mapped[str] = mapped_column(String(255), comment="our client_id at that platform")
    name: Mapped[str] = mapped_column(String(255), default="", comment="label for administrators")
    product: Mapped[str] = mapped_column(
        String(64), default="", comment="platform product family, e.g. canvas, moodle, d2l"
    )
    auth_login_url: Mapped[str] = mapped_column(
        Text, comment="platform OIDC authorization endpoint"
    )
    auth_token_url: Mapped[str] = mapped_column(Text, comment="platform OAuth2 token endpoint")
    auth_audience: Mapped[str | None] = mapped_column(
        Text, comment="aud for our client assertion when it differs from the token URL"
    )
    jwks_url: Mapped[str] = mapped_column(Text, comment="platform key set URL")
    frame_origins: Mapped[list[str]] = mapped_column(
        JSON, default=list, comment="origins allowed to frame the tool (CSP frame-ancestors)"
    )
    trust_new_deployments: Mapped[bool] = mapped_column(
        Boolean, default=False, comment="approve unknown deployment ids on first launch"
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True, comment="false: launches refused")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    deployments: Mapped[list[Deployment]] = relationship(back_populates="registration")


class Deployment(Base):
    """A deployment id of a registration; only approved deployments may launch."""

    __tablename__ = "deployments"
    __table_args__ = (UniqueConstraint("registration_id", "deployment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registrations.id", ondelete="CASCADE"))
    deployment_id: Mapped[str] = mapped_column(String(255), comment="the platform's deployment_id")
    status: Mapped[DeploymentStatus] = mapped_column(
        str_enum(DeploymentStatus),
        default=DeploymentStatus.PENDING,
    )
    first_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    registration: Mapped[Registration] = relationship(back_populates="deployments")


class ToolKey(Base):
    """An RSA key pair of the tool; the newest active key signs, unretired keys are published."""

    __tablename__ = "tool_keys"
    __table_args__ = (
        CheckConstraint(
            "retired_at IS NULL OR retired_at >= created_at", name="retire_after_create"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True, comment="JWK key id")
    private_pem: Mapped[str] = mapped_column(Text, comment="PKCS#8 PEM of the private key")
    public_jwk: Mapped[str] = mapped_column(Text, comment="JSON of the public JWK")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime, comment="set: no longer published nor used"
    )


class RegistrationInvite(Base):
    """A one-time Dynamic Registration URL an administrator hands to a platform."""

    __tablename__ = "registration_invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, comment="sha256 of the token")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("registrations.id", ondelete="SET NULL"), comment="what it registered"
    )
