"""Contacts of the built-in directory."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import (
    Contact,
)


async def find_contacts_by_phone(
    *, session: AsyncSession, phone_e164: str, limit: int
) -> Sequence[Contact]:
    query = select(Contact).where(col(Contact.phone_e164) == phone_e164)
    return (await session.scalars(query.order_by(col(Contact.name)).limit(limit))).all()


async def find_contacts_by_email(
    *, session: AsyncSession, email: str, limit: int
) -> Sequence[Contact]:
    query = select(Contact).where(func.lower(col(Contact.email)) == email.lower())
    return (await session.scalars(query.order_by(col(Contact.name)).limit(limit))).all()


async def find_contacts_by_name(
    *, session: AsyncSession, words: Sequence[str], limit: int
) -> Sequence[Contact]:
    """Contacts whose name contains every word, case-insensitively (portable LIKE)."""
    query = select(Contact)
    for word in words:
        pattern = "%" + word.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(func.lower(col(Contact.name)).like(pattern + "%", escape="\\"))
    return (await session.scalars(query.order_by(col(Contact.name)).limit(limit))).all()


async def get_contact(*, session: AsyncSession, contact_id: int) -> Contact | None:
    return await session.get(Contact, contact_id)


async def get_contact_by_external_id(*, session: AsyncSession, external_id: str) -> Contact | None:
    query = select(Contact).where(col(Contact.external_id) == external_id)
    return (await session.scalars(query)).first()


async def count_contacts(*, session: AsyncSession) -> int:
    return int((await session.scalar(select(func.count()).select_from(Contact))) or 0)
