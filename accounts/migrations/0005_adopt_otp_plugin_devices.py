"""Move devices of django-otp's TOTP and static plugins into our own, then drop their tables.

The plugins kept TOTP secrets in hex and backup codes in plain text. Each
TOTP secret is sealed under ``OTP_SECRET_KEYS`` (which must be set before
migrating), each unused backup code hashed; the old tables, and the
plugins' migration records, are then removed, so no copy in the clear is
left behind. On a database that never had the plugins this does nothing.
"""

from django.db import migrations

from policies.tenancy import person_context

PLUGIN_TABLES = ["otp_static_statictoken", "otp_static_staticdevice", "otp_totp_totpdevice"]


def _rows(cursor, sql):
    cursor.execute(sql)
    columns = [column.name for column in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def adopt(apps, schema_editor):
    from accounts.models import BackupCodeHasher, otp_secret_seal

    connection = schema_editor.connection
    if not set(PLUGIN_TABLES) <= set(connection.introspection.table_names()):
        return
    User = apps.get_model("accounts", "User")
    AuthenticatorDevice = apps.get_model("accounts", "AuthenticatorDevice")
    BackupCodeDevice = apps.get_model("accounts", "BackupCodeDevice")
    hasher = BackupCodeHasher()
    with connection.cursor() as cursor:
        totp_devices = _rows(
            cursor,
            "SELECT user_id, name, confirmed, key, drift, last_t FROM otp_totp_totpdevice",
        )
        static_tokens = _rows(
            cursor,
            "SELECT d.user_id, t.token FROM otp_static_statictoken t "
            "JOIN otp_static_staticdevice d ON d.id = t.device_id",
        )
    codes_of = {}
    for row in static_tokens:
        codes_of.setdefault(row["user_id"], []).append(row["token"])
    for user in User.objects.filter(pk__in={row["user_id"] for row in totp_devices} | codes_of.keys()):
        with person_context(user):
            for row in (row for row in totp_devices if row["user_id"] == user.pk):
                key_id, sealed_secret = otp_secret_seal(user.pk, bytes.fromhex(row["key"]))
                AuthenticatorDevice.objects.create(
                    user=user,
                    name=row["name"],
                    confirmed=row["confirmed"],
                    key_id=key_id,
                    sealed_secret=sealed_secret,
                    drift=row["drift"],
                    last_t=row["last_t"],
                )
            if user.pk in codes_of:
                BackupCodeDevice.objects.create(
                    user=user,
                    name="backup codes",
                    code_hashes=[hasher.encode(code, hasher.salt()) for code in codes_of[user.pk]],
                )
    with connection.cursor() as cursor:
        for table in PLUGIN_TABLES:
            cursor.execute(f"DROP TABLE {connection.ops.quote_name(table)}")
        cursor.execute("DELETE FROM django_migrations WHERE app IN ('otp_static', 'otp_totp')")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_staff_secrets"),
    ]

    operations = [
        migrations.RunPython(adopt, migrations.RunPython.noop),
    ]
