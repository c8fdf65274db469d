"""Post text exists in the database only as ciphertext, bound to its row, under a wrapped key."""

import base64
import secrets

import pytest
from django.core.management import call_command
from django.db import connection

from groups.models import Post
from groups.selectors import access_post
from groups.services import post_create
from policies.crypto import DecryptionError
from policies.keys import organization_data_key
from policies.models import AuditEntry, OrganizationDataKey
from policies.tenancy import organization_context
from tests.groups.conftest import agreement_publish, group_create, member_client, member_create

pytestmark = pytest.mark.django_db

TITLE = "Mon histoire"
FRENCH = "Il surveillait mon téléphone"
ARABIC = "كان يراقب هاتفي"


def _kek(key_id):
    return f"{key_id}:" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def _database_text(organization):
    """Return every row of every forum table, and the data key table, as the database holds them."""
    tables = [model._meta.db_table for model in (Post, OrganizationDataKey)] + [
        "groups_groupmember",
        "groups_postreport",
        "groups_supportgroup",
        "groups_groupinvite",
        "policies_auditentry",
    ]
    dump = []
    with organization_context(organization), connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f'SELECT row_to_json(t)::text FROM "{table}" t')
            dump.extend(row[0] for row in cursor.fetchall())
    return "\n".join(dump)


def test_the_database_holds_no_post_text_in_clear(organization, group, member):
    client = member_client(organization, member)
    thread = client.post("/en/groups/forum/new/", {"title": TITLE, "body": FRENCH}).url
    client.post(thread, {"body": ARABIC})
    html = client.get(thread).content.decode()
    assert FRENCH in html and ARABIC in html

    dump = _database_text(organization)
    assert "Quiet River" in dump  # the dump does read the rows
    for text in (TITLE, FRENCH, ARABIC, "téléphone", "هاتفي"):
        assert text not in dump
        assert text.encode().hex() not in dump
    with organization_context(organization):
        data_key = organization_data_key(organization=organization)
    assert data_key.hex() not in dump
    assert base64.b64encode(data_key).decode() not in dump


def test_a_ciphertext_moved_to_another_row_does_not_decrypt(organization, group, member):
    with organization_context(organization):
        first = post_create(
            organization=organization, group=group, member=member, title="one", body=FRENCH
        )
        second = post_create(
            organization=organization, group=group, member=member, title="two", body=ARABIC
        )
        Post.objects.filter(pk=second.pk).update(body_sealed=first.body_sealed)
        assert access_post(organization=organization, group=group, post_id=first.pk).body == FRENCH
        with pytest.raises(DecryptionError):
            access_post(organization=organization, group=group, post_id=second.pk)


def test_each_organization_has_its_own_data_key(organization, other_organization):
    with organization_context(organization):
        mine = organization_data_key(organization=organization)
        assert organization_data_key(organization=organization) == mine
    with organization_context(other_organization):
        assert organization_data_key(organization=other_organization) != mine


def test_rotating_the_key_encryption_key_keeps_posts_readable(
    organization, other_organization, group, member, settings
):
    settings.CONTENT_KEYS = [_kek("old")]
    agreement_publish(other_organization)
    theirs = group_create(other_organization)
    posts = []
    for org, grp, author in (
        (organization, group, member),
        (other_organization, theirs, member_create(other_organization, theirs)),
    ):
        with organization_context(org):
            posts.append(
                post_create(organization=org, group=grp, member=author, title="t", body=FRENCH)
            )
            assert OrganizationDataKey.objects.get().key_id == "old"

    # Step 1: the new key first, the old one still there; new data keys use the new one.
    settings.CONTENT_KEYS = [_kek("new"), *settings.CONTENT_KEYS]
    call_command("rotate_content_keys")
    call_command("rotate_content_keys")  # harmless once done

    # Step 3: the old key removed; everything still reads.
    settings.CONTENT_KEYS = settings.CONTENT_KEYS[:1]
    for org, grp, post in zip(
        (organization, other_organization), (group, theirs), posts, strict=True
    ):
        with organization_context(org):
            assert OrganizationDataKey.objects.get().key_id == "new"
            assert access_post(organization=org, group=grp, post_id=post.pk).body == FRENCH
            assert AuditEntry.objects.filter(action="platform.rotate_content_keys").count() == 2


def test_rotation_reports_what_it_rewrapped(organization, group, member, settings, capsys):
    settings.CONTENT_KEYS = [_kek("old")]
    with organization_context(organization):
        post_create(organization=organization, group=group, member=member, title="t", body="b")
    settings.CONTENT_KEYS = [_kek("new"), *settings.CONTENT_KEYS]
    call_command("rotate_content_keys")
    assert "data keys re-wrapped under new: 1" in capsys.readouterr().out
    call_command("rotate_content_keys")
    assert "data keys re-wrapped under new: 0" in capsys.readouterr().out
