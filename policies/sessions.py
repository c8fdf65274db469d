"""Sessions in ``django_session``, reached only through the owner's functions.

The application role has no privilege on ``django_session``: a query bug, or
a raw ``SELECT``, cannot list other people's sessions. Each call below names
one session by its key (``policies.tenancy.SESSION_FUNCTIONS``), which only
its holder's cookie carries. Otherwise this is Django's database backend.
"""

from django.contrib.sessions.backends.base import CreateError, SessionBase, UpdateError
from django.db import connection


def _call(function, *args):
    placeholders = ", ".join(["%s"] * len(args))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}({placeholders})", args)
        return cursor.fetchone()[0]


class SessionStore(SessionBase):
    def load(self):
        data = _call("session_load", self.session_key) if self.session_key else None
        if data is None:
            self._session_key = None
            return {}
        return self.decode(data)

    def exists(self, session_key):
        return _call("session_exists", session_key)

    def create(self):
        while True:
            self._session_key = self._get_new_session_key()
            try:
                self.save(must_create=True)
            except CreateError:
                continue
            self.modified = True
            return

    def save(self, must_create=False):
        if self.session_key is None:
            return self.create()
        data = self.encode(self._get_session(no_load=must_create))
        saved = _call("session_save", self.session_key, data, self.get_expiry_date(), must_create)
        if not saved:
            raise CreateError if must_create else UpdateError

    def delete(self, session_key=None):
        session_key = session_key or self.session_key
        if session_key is not None:
            _call("session_delete", session_key)

    @classmethod
    def clear_expired(cls):
        _call("session_clear_expired")
