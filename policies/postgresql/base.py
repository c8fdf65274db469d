"""Django's PostgreSQL backend, telling the tenancy wrapper when a transaction ends.

Inside a transaction the current organization is set transaction-locally
(policies.tenancy); the value lapses when the transaction, or the savepoint
it was set in, ends. Forgetting it here at the same moment lets the wrapper
set it once per transaction instead of before every query.
"""

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    tenant_local = None

    def _commit(self):
        try:
            return super()._commit()
        finally:
            self.tenant_local = None

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            self.tenant_local = None

    def _savepoint_rollback(self, sid):
        try:
            return super()._savepoint_rollback(sid)
        finally:
            self.tenant_local = None
