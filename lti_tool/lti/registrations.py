"""Operations on platform registrations and deployments (flush, never commit)."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.db import utcnow
from lti_tool.errors import BadRequest, Conflict, DeploymentPending, LaunchError, NotFound, _
from lti_tool.lti.models import Deployment, DeploymentStatus, Registration


def check_url(url: str, *, https_only: bool, what: str) -> str:
    """Refuse URLs that are not absolute http(s) (https outside dev mode)."""
    parts = urlsplit(url or "")
    allowed = {"https"} if https_only else {"https", "http"}
    if parts.scheme not in allowed or not parts.netloc:
        reason = (
            _("An address must be an absolute https URL.")
            if https_only
            else _("An address must be an absolute http or https URL.")
        )
        raise BadRequest(reason, detail=f"{what}: {url[:200]}")
    return url


def add_registration(
    session: Session,
    *,
    issuer: str,
    client_id: str,
    auth_login_url: str,
    auth_token_url: str,
    jwks_url: str,
    https_only: bool,
    name: str = "",
    product: str = "",
    auth_audience: str | None = None,
    trust_new_deployments: bool = False,
) -> Registration:
    """Register a platform client; refuses duplicates and non-https URLs outside dev mode."""
    check_url(issuer, https_only=https_only, what="issuer")
    for what, url in (
        ("login URL", auth_login_url),
        ("token URL", auth_token_url),
        ("JWKS URL", jwks_url),
    ):
        check_url(url, https_only=https_only, what=what)
    if not client_id or len(client_id) > 255:
        raise BadRequest("client_id must be 1-255 characters")
    existing = session.scalar(
        select(Registration).where(
            Registration.issuer == issuer, Registration.client_id == client_id
        )
    )
    if existing is not None:
        raise Conflict("This platform client is already registered.", detail=f"id {existing.id}")
    registration = Registration(
        issuer=issuer,
        client_id=client_id,
        name=name or issuer,
        product=product,
        auth_login_url=auth_login_url,
        auth_token_url=auth_token_url,
        auth_audience=auth_audience,
        jwks_url=jwks_url,
        trust_new_deployments=trust_new_deployments,
    )
    session.add(registration)
    session.flush()
    return registration


def get_registration(session: Session, registration_id: int) -> Registration:
    registration = session.get(Registration, registration_id)
    if registration is None:
        raise NotFound(detail=f"registration {registration_id}")
    return registration


def registrations_for_issuer(session: Session, issuer: str) -> list[Registration]:
    """Active registrations of ``issuer``."""
    return list(
        session.scalars(
            select(Registration).where(Registration.issuer == issuer, Registration.active)
        )
    )


def find_for_login(session: Session, issuer: str, client_id: str | None) -> Registration:
    """The registration an OIDC login initiation refers to."""
    candidates = registrations_for_issuer(session, issuer)
    if client_id:
        candidates = [r for r in candidates if r.client_id == client_id]
    if not candidates:
        raise LaunchError("This platform is not registered with the tool.", detail=issuer[:200])
    if len(candidates) > 1:
        raise LaunchError("The platform did not say which registration (client_id) to use.")
    return candidates[0]


def add_deployment(
    session: Session, registration: Registration, deployment_id: str, status: DeploymentStatus
) -> Deployment:
    deployment = Deployment(
        registration_id=registration.id,
        deployment_id=deployment_id,
        status=status,
        decided_at=utcnow() if status != DeploymentStatus.PENDING else None,
    )
    session.add(deployment)
    session.flush()
    return deployment


def check_deployment(session: Session, registration: Registration, deployment_id: str) -> bool:
    """Pass if the deployment is approved; record an unknown one (pending, or approved when the
    registration trusts new deployments). Returns True when a new record was added."""
    deployment = session.scalar(
        select(Deployment).where(
            Deployment.registration_id == registration.id,
            Deployment.deployment_id == deployment_id,
        )
    )
    if deployment is None:
        status = (
            DeploymentStatus.APPROVED
            if registration.trust_new_deployments
            else DeploymentStatus.PENDING
        )
        deployment = add_deployment(session, registration, deployment_id, status)
        if status == DeploymentStatus.PENDING:
            raise DeploymentPending(detail=f"deployment {deployment_id[:100]!r}", recorded=True)
        return True
    if deployment.status != DeploymentStatus.APPROVED:
        raise DeploymentPending(detail=f"deployment {deployment_id[:100]!r} is {deployment.status}")
    return False


def set_deployment_status(
    session: Session, deployment_pk: int, status: DeploymentStatus
) -> Deployment:
    deployment = session.get(Deployment, deployment_pk)
    if deployment is None:
        raise NotFound(detail=f"deployment {deployment_pk}")
    deployment.status = status
    deployment.decided_at = utcnow()
    session.flush()
    return deployment


def list_deployments(session: Session, status: DeploymentStatus | None = None) -> list[Deployment]:
    query = select(Deployment).order_by(Deployment.id)
    if status is not None:
        query = query.where(Deployment.status == status)
    return list(session.scalars(query))
