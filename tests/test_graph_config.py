import pytest

from migrator.graph import ConfigError, GraphConfig

SECRET = "s3cr3t-value-xyz"
PASSWORD = "pem-pass-789"


def env(**overrides):
    base = {
        "MIGRATOR_TENANT_ID": "tenant-1",
        "MIGRATOR_CLIENT_ID": "client-1",
        "MIGRATOR_CLIENT_SECRET": SECRET,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def test_from_env_reads_every_setting(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    config = GraphConfig.from_env(
        env(
            MIGRATOR_GRAPH_URL="https://127.0.0.1:8443/",
            MIGRATOR_LOGIN_URL="https://127.0.0.1:8443",
            MIGRATOR_CA_BUNDLE=str(ca),
        )
    )
    assert config.tenant_id == "tenant-1"
    assert config.client_id == "client-1"
    assert config.client_secret == SECRET
    assert config.graph_url == "https://127.0.0.1:8443"  # trailing slash dropped
    assert config.verify == str(ca)
    assert not config.uses_default_login


def test_defaults_point_at_microsoft():
    config = GraphConfig.from_env(env())
    assert config.graph_url == "https://graph.microsoft.com"
    assert config.login_url == "https://login.microsoftonline.com"
    assert config.api_version == "v1.0"
    assert config.verify is True
    assert config.uses_default_login


def test_missing_variables_are_all_named():
    with pytest.raises(ConfigError) as info:
        GraphConfig.from_env({"MIGRATOR_CLIENT_ID": "  "})
    message = str(info.value)
    for name in ("MIGRATOR_TENANT_ID", "MIGRATOR_CLIENT_ID", "MIGRATOR_CLIENT_SECRET", "MIGRATOR_CLIENT_CERT"):
        assert name in message


def test_secret_and_certificate_together_are_ambiguous(tmp_path):
    pem = tmp_path / "app.pem"
    pem.write_text("x")
    with pytest.raises(ConfigError, match="only one"):
        GraphConfig.from_env(env(MIGRATOR_CLIENT_CERT=str(pem)))


def test_certificate_path_must_exist(tmp_path):
    with pytest.raises(ConfigError, match="MIGRATOR_CLIENT_CERT"):
        GraphConfig.from_env(env(MIGRATOR_CLIENT_SECRET=None, MIGRATOR_CLIENT_CERT=str(tmp_path / "nope.pem")))


def test_certificate_with_password(tmp_path):
    pem = tmp_path / "app.pem"
    pem.write_text("x")
    config = GraphConfig.from_env(
        env(MIGRATOR_CLIENT_SECRET=None, MIGRATOR_CLIENT_CERT=str(pem), MIGRATOR_CLIENT_CERT_PASSWORD=PASSWORD)
    )
    assert config.client_cert == str(pem)
    assert config.client_cert_password == PASSWORD
    assert config.client_secret is None


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        (env(), True),
        (env(MIGRATOR_CLIENT_SECRET=None, MIGRATOR_CLIENT_CERT="/some.pem"), True),
        (env(MIGRATOR_CLIENT_SECRET=None), False),
        (env(MIGRATOR_CLIENT_SECRET=""), False),
        (env(MIGRATOR_TENANT_ID=None), False),
        (env(MIGRATOR_CLIENT_ID=None), False),
    ],
)
def test_has_credentials(environ, expected):
    assert GraphConfig.has_credentials(environ) is expected


def test_repr_hides_secret_and_password():
    config = GraphConfig(tenant_id="t", client_id="c", client_secret=SECRET, client_cert_password=PASSWORD)
    for text in (repr(config), str(config)):
        assert SECRET not in text
        assert PASSWORD not in text
        assert "tenant_id='t'" in text


def test_config_is_frozen():
    config = GraphConfig(tenant_id="t", client_id="c", client_secret=SECRET)
    with pytest.raises(AttributeError):
        config.client_secret = "other"
