//! `make bootstrap-admin ORG=… NAME=… PHONE=… [EMAIL=…]`: the first administrator of an
//! organisation, written by the invite path's own code. The environment names the pool and
//! the tables as the functions' does (scripts/deploy/bootstrap-admin.sh fills it from the deployed
//! stack's outputs, or from `.local/env`).
//!
//! usage: bootstrap-admin --org ORG --name NAME --phone PHONE [--email EMAIL]

use invite_user::bootstrap::{bootstrap_admin, invitation};
use std::process::ExitCode;

const USAGE: &str = "usage: bootstrap-admin --org ORG --name NAME --phone PHONE [--email EMAIL]";

fn arguments() -> Result<(String, String, String, Option<String>), String> {
    let (mut org, mut name, mut phone, mut email) = (None, None, None, None);
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let slot = match flag.as_str() {
            "--org" => &mut org,
            "--name" => &mut name,
            "--phone" => &mut phone,
            "--email" => &mut email,
            other => return Err(format!("unknown argument {other}")),
        };
        *slot = Some(args.next().ok_or_else(|| format!("{flag} needs a value"))?);
    }
    match (org, name, phone) {
        (Some(org), Some(name), Some(phone)) => Ok((org, name, phone, email)),
        _ => Err("ORG, NAME and PHONE are required".into()),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let (org, name, phone, email) = match arguments() {
        Ok(parsed) => parsed,
        Err(problem) => {
            eprintln!("bootstrap-admin: {problem}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let invitation = match invitation(&name, &phone, email.as_deref()) {
        Ok(invitation) => invitation,
        Err(problem) => {
            eprintln!("bootstrap-admin: {problem}");
            return ExitCode::from(2);
        }
    };
    let deps = match shared::Deps::from_env().await {
        Ok(deps) => deps,
        Err(problem) => {
            eprintln!("bootstrap-admin: {problem}");
            return ExitCode::from(2);
        }
    };
    match bootstrap_admin(&deps, &org, &invitation).await {
        Ok(member) => {
            println!(
                "{}",
                serde_json::json!({
                    "userId": member.user_id.as_str(),
                    "orgId": org,
                    "name": member.name,
                    "phone": member.phone,
                    "role": "admin",
                    "status": "unverified",
                })
            );
            eprintln!("bootstrap-admin: invited; the temporary password goes to {phone} by SMS");
            ExitCode::SUCCESS
        }
        Err(problem) => {
            eprintln!("bootstrap-admin: {problem}");
            ExitCode::FAILURE
        }
    }
}
