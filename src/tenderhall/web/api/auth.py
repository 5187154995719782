"""Sign-in, sign-out, the caller's profile, API tokens, and account creation by admins."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, delete, get, post
from litestar.datastructures import Cookie
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tenderhall.auth.models import ApiToken, User
from tenderhall.auth.policy import Resource, Subject, enforce
from tenderhall.auth.roles import Role
from tenderhall.errors import InvalidInput, NotFound
from tenderhall.services import Services
from tenderhall.web.api.schemas import LoginIn, MeOut, OkOut, TokenIn, TokenLoginIn, TokenOut, UserIn
from tenderhall.web.openapi import PUBLIC
from tenderhall.web.security import LOGIN_RATE_LIMIT, SESSION_COOKIE


def me_out(user: User) -> MeOut:
    return MeOut(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        region_id=user.region_id,
        centre_id=user.centre_id,
        organisation_id=user.organisation_id,
        company_id=user.company_id,
        locale=user.locale,
    )


def token_out(token: ApiToken, secret: str | None = None) -> TokenOut:
    return TokenOut(
        id=token.id,
        name=token.name,
        prefix=token.prefix,
        created_at=token.created_at,
        expires_at=token.expires_at,
        revoked_at=token.revoked_at,
        last_used_at=token.last_used_at,
        token=secret,
    )


def session_cookie(services: Services, value: str, max_age: int) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE,
        value=value,
        httponly=True,
        samesite="lax",
        path="/",
        secure=services.settings.secure_cookies,
        max_age=max_age,
    )


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]

    @post(
        "/login",
        summary="Sign in with a password; sets the session cookie",
        opt=PUBLIC,
        middleware=[LOGIN_RATE_LIMIT.middleware],
    )
    async def login(
        self, request: Request[Any, Any, Any], data: LoginIn, services: Services, db_session: AsyncSession
    ) -> Response[MeOut]:
        source = request.client.host if request.client else None
        user = await services.accounts.authenticate(db_session, data.username, data.password, source)
        login = await services.accounts.open_session(
            db_session, user, source, request.headers.get("user-agent")
        )
        max_age = services.settings.session_hours * 3600
        return Response(me_out(user), cookies=[session_cookie(services, login.token, max_age)])

    @post(
        "/token",
        summary="Exchange a password for an API token (command-line clients)",
        opt=PUBLIC,
        middleware=[LOGIN_RATE_LIMIT.middleware],
    )
    async def token_login(
        self,
        request: Request[Any, Any, Any],
        data: TokenLoginIn,
        services: Services,
        db_session: AsyncSession,
    ) -> TokenOut:
        source = request.client.host if request.client else None
        user = await services.accounts.authenticate(db_session, data.username, data.password, source)
        token, secret = await services.accounts.create_token(db_session, user, data.name, data.days)
        return token_out(token, secret)

    @post("/logout", summary="End the browser session", status_code=200, opt=PUBLIC)
    async def logout(
        self, request: Request[Any, Any, Any], services: Services, db_session: AsyncSession
    ) -> Response[OkOut]:
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            await services.accounts.close_session(db_session, cookie)
        return Response(OkOut(ok=True), cookies=[session_cookie(services, "", 0)])

    @get("/me", summary="The signed-in user")
    async def me(self, user: User) -> MeOut:
        return me_out(user)

    @get("/tokens", summary="My API tokens")
    async def tokens(self, user: User, db_session: AsyncSession) -> list[TokenOut]:
        rows = await db_session.execute(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at)
        )
        return [token_out(t) for t in rows.scalars()]

    @post("/tokens", summary="Create an API token; the secret is shown only once")
    async def create_token(
        self, data: TokenIn, user: User, who: Subject, services: Services, db_session: AsyncSession
    ) -> TokenOut:
        enforce(who, "token.manage", Resource(kind="user", user_id=user.id))
        token, secret = await services.accounts.create_token(db_session, user, data.name, data.days)
        return token_out(token, secret)

    @delete("/tokens/{token_id:uuid}", summary="Revoke an API token", status_code=204)
    async def revoke_token(
        self, token_id: uuid.UUID, user: User, services: Services, db_session: AsyncSession
    ) -> None:
        if not await services.accounts.revoke_token(db_session, user, token_id):
            raise NotFound("error.not_found", kind="token")


class UserController(Controller):
    path = "/api/v1/users"
    tags = ["accounts"]

    @post("/", summary="Create an account (admin)")
    async def create(self, data: UserIn, who: Subject, services: Services, db_session: AsyncSession) -> MeOut:
        enforce(who, "user.create", Resource(kind="user"))
        try:
            role = Role(data.role)
        except ValueError:
            raise InvalidInput("user.role_unknown", allowed=", ".join(r.value for r in Role)) from None
        user = await services.accounts.create_user(
            db_session,
            username=data.username,
            password=data.password,
            role=role,
            display_name=data.display_name,
            email=data.email,
            region_id=data.region_id,
            centre_id=data.centre_id,
            organisation_id=data.organisation_id,
            company_id=data.company_id,
            actor=who.user_id,
        )
        return me_out(user)

    @get("/{user_id:uuid}", summary="An account (self or admin)")
    async def get_user(self, user_id: uuid.UUID, who: Subject, db_session: AsyncSession) -> MeOut:
        user = await db_session.get(User, user_id)
        resource = Resource(kind="user", user_id=user_id)
        if user is None:
            raise NotFound("error.not_found", kind="user")
        enforce(who, "user.view", resource, hide="user.view")
        return me_out(user)
