"""People who sign in: staff of an agency, with one or more roles."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, LargeBinary, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.access.roles import Role
from casework.db import Base, IdMixin, TimestampMixin, VersionedMixin, enum_column

if TYPE_CHECKING:
    from casework.agencies.models import Agency, TeamMembership


class User(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(320), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agencies.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    disabled_at: Mapped[datetime | None]
    #: A non-interactive account for a system that calls the API with a token (one role, one
    #: agency). It has no password or authenticator and can never sign in to the pages.
    is_service_account: Mapped[bool] = mapped_column(default=False, server_default=false())

    password_hash: Mapped[str | None] = mapped_column(String(255))
    password_changed_at: Mapped[datetime | None]
    #: Set by an admin reset or on account creation: the user must choose a new password.
    must_change_password: Mapped[bool] = mapped_column(default=True)

    #: TOTP secret, AES-GCM encrypted (see casework.security.crypto); None until enrolled.
    totp_secret_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: The last accepted TOTP time-step: a code is accepted once only.
    totp_last_timestep: Mapped[int | None]
    mfa_enrolled_at: Mapped[datetime | None]
    #: Notification preferences: reminders also go by email and/or SMS (content-free).
    notify_by_email: Mapped[bool] = mapped_column(default=False, server_default=false())
    notify_by_sms: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: A work mobile number for SMS (staff contact details, not case data).
    mobile_number: Mapped[str | None] = mapped_column(String(20))

    agency: Mapped[Agency] = relationship(lazy="joined")
    role_rows: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )
    memberships: Mapped[list[TeamMembership]] = relationship(back_populates="user")

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(row.role for row in self.role_rows)

    def has_role(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def mfa_enrolled(self) -> bool:
        return self.totp_secret_encrypted is not None and self.mfa_enrolled_at is not None


class UserRole(Base):
    __tablename__ = "user_roles"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), primary_key=True)
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"), primary_key=True)

    user: Mapped[User] = relationship(back_populates="role_rows")
