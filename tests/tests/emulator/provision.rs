//! `make provision`'s work: the template's resources on the emulator, and the environment.

use members_tests::{emulator_config, stack, template_path};

#[tokio::test]
async fn provisioning_creates_the_templates_resources_once_and_names_them_in_the_environment() {
    let sdk = emulator_config().await;
    let prefix = format!("p{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);

    let first = stack::provision(&sdk, &template_path(), &prefix).await.expect("provision");
    let again = stack::provision(&sdk, &template_path(), &prefix).await.expect("provision again");

    assert_eq!(first.physical_ids, again.physical_ids, "the second run reuses what the first made");
    assert_eq!(first.function_env, again.function_env);
    for logical in
        ["MembersTable", "AuditTable", "ContactsTable", "IdempotencyTable", "UserPool", "UserPoolClient", "AdminGroup"]
    {
        assert!(first.physical_ids.contains_key(logical), "{logical} is provisioned");
    }
    let config = first.shared_config().expect("every variable a function needs");
    assert_eq!(config.tables.members, format!("{prefix}-MembersTable"));
    assert_eq!(config.admin_group, "org-admin");
    assert_eq!(config.resend_cooldown.as_secs(), 60);
    let env = first.env_file();
    assert!(env.lines().any(|line| line.starts_with("AWS_ENDPOINT_URL=http://127.0.0.1")), "{env}");
    assert!(env.contains(&format!("USER_POOL_ID={}", first.physical_ids["UserPool"])));
    // The table is the template's: its two indexes and its key.
    let table =
        aws_sdk_dynamodb::Client::new(&sdk).describe_table().table_name(&config.tables.members).send().await.unwrap();
    let indexes: Vec<&str> =
        table.table().unwrap().local_secondary_indexes().iter().filter_map(|i| i.index_name()).collect();
    assert_eq!(indexes.len(), 2);
    assert!(indexes.contains(&"byName") && indexes.contains(&"byStatus"));
}

/// The fixtures carry the issuer (and audience) of `make dev`'s pool, whose id the emulator
/// derives from the pool's name and configuration: a change of the template's pool changes
/// it, and this says what the fixtures must carry then.
#[tokio::test]
async fn the_fixtures_carry_the_issuer_of_make_devs_pool() {
    let sdk = emulator_config().await;
    let dev = stack::provision(&sdk, &template_path(), "dev").await.expect("provision make dev's stack");
    let config = dev.shared_config().expect("config");
    assert_eq!(
        config.issuer,
        members_tests::FIXTURE_ISSUER,
        "update events/**/*.json and FIXTURE_ISSUER to make dev's pool (client {})",
        dev.physical_ids["UserPoolClient"]
    );
    let event = std::fs::read_to_string(members_tests::workspace_root().join("events/list-members/admin-lists.json"))
        .expect("a fixture");
    assert!(event.contains(&format!("\"aud\": \"{}\"", dev.physical_ids["UserPoolClient"])), "the fixtures' aud");
}
