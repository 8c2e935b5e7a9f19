"""The user-facing API: :class:`AsyncClient` (asyncio) and :class:`Client`, its blocking facade."""
