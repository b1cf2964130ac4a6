//! `make bench-export`: how fast an export writes an organisation's log, and how much memory
//! it holds, at two sizes (10 000 and 100 000 entries by default, `BENCH_EXPORT_SIZES`), and
//! what that makes of a million entries against the function's 900 s.
//!
//! The entries are seeded as the store writes them (its own item, `shared::store::audit_item`),
//! 25 to a `BatchWriteItem` (the seeding is not what is measured, and one `PutItem` each took
//! most of the run), on a stack of its own on the emulator; the export runs as its job runs (`write::run`: the range read a page
//! at a time, the file streamed to S3 in parts). Memory is the heap this process holds at
//! its peak during the job (a counting allocator), which is what the function's own memory
//! follows; rows a second are measured against the emulator, whose reads are far slower than
//! DynamoDB's (docs/performance.md has the comparison).

use members_tests::TestStack;
use members_tests::seed::{ACME, ACME_ADMIN};
use shared::domain::{AuditAction, AuditEntry};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static HELD: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let held = HELD.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(held, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        HELD.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const MIB: f64 = 1024.0 * 1024.0;

#[tokio::main]
async fn main() {
    let sizes: Vec<usize> = std::env::var("BENCH_EXPORT_SIZES")
        .unwrap_or_else(|_| "10000,100000".into())
        .split(',')
        .map(|s| s.trim().parse().expect("BENCH_EXPORT_SIZES: sizes separated by commas"))
        .collect();
    println!(
        "{:>9} | {:>9} | {:>8} | {:>6} | {:>5} | {:>8} | {:>9} | {:>8} | {:>13} | {:>13}",
        "entries",
        "seeded s",
        "export s",
        "pages",
        "parts",
        "file MiB",
        "reads s",
        "rows/s",
        "rows/s beside",
        "peak heap MiB"
    );
    let mut last = None;
    for &size in &sizes {
        let stack = TestStack::with_callers().await;
        let seeding = std::time::Instant::now();
        seed(&stack, size).await;
        let seeded = seeding.elapsed().as_secs_f64();
        let exporter = stack.exporter_with(());
        let now = shared::time::now();
        let range = export_audit_log::range::ExportRange {
            from: now - chrono::Duration::days(366),
            to: now,
            format: export_audit_log::range::Format::Csv,
        };
        let export = export_audit_log::records::Export {
            org_id: ACME.into(),
            export_id: uuid::Uuid::new_v4().to_string(),
            range,
            status: export_audit_log::records::Status::Pending,
            requested_by: ACME_ADMIN.sub.into(),
            requested_at: now,
            row_count: None,
        };
        exporter.records.create(&export).await.expect("the export's record");
        let job = export_audit_log::jobs::Job { org_id: ACME.into(), export_id: export.export_id.clone() };
        let before = HELD.load(Ordering::Relaxed);
        PEAK.store(before, Ordering::Relaxed);
        let started = std::time::Instant::now();
        let written = export_audit_log::write::run(&exporter, &job).await;
        let took = started.elapsed().as_secs_f64();
        let peak = PEAK.load(Ordering::Relaxed).saturating_sub(before) as f64 / MIB;
        assert_eq!((written.status, written.rows), ("ready", size as u64), "{written:?}");
        let reads = written.read_ms as f64 / 1000.0;
        let beside = size as f64 / (took - reads).max(0.001);
        println!(
            "{:>9} | {:>9.0} | {:>8.1} | {:>6} | {:>5} | {:>8.1} | {:>9.1} | {:>8.0} | {:>13.0} | {:>13.1}",
            size,
            seeded,
            took,
            written.pages,
            written.parts,
            written.bytes as f64 / MIB,
            reads,
            size as f64 / took,
            beside,
            peak
        );
        last = Some((size, took, reads, written.pages, peak));
    }
    if let Some((size, took, reads, pages, peak)) = last {
        let scale = 1_000_000.0 / size as f64;
        let emulator = took * scale;
        // DynamoDB answers a 1 MB page of a strongly consistent Query in tens of milliseconds;
        // BENCH_PAGE_MS (default 100, a pessimistic figure) stands for it.
        let page_ms: f64 = std::env::var("BENCH_PAGE_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(100.0);
        let on_dynamodb = (took - reads) * scale + pages as f64 * scale * page_ms / 1000.0;
        let own = (took - reads) * scale;
        let break_even = (900.0 - own) / (pages as f64 * scale);
        println!(
            "a million entries: {emulator:.0} s at the emulator's pace (its time a page grows with the partition); \
             {on_dynamodb:.0} s with DynamoDB's pages at {page_ms:.0} ms each ({:.0} pages) and this process's own \
             work as measured ({own:.0} s); the function's 900 s hold while a page takes under {break_even:.2} s. \
             Peak heap {peak:.1} MiB: a part of 8 MiB going up, the next filling and the client's copy, which stops \
             growing once a file passes one part.",
            pages as f64 * scale
        );
    }
}

/// `size` entries of Acme over the last 300 days, each the item the store's `append_audit`
/// writes, 25 to a `BatchWriteItem` (what DynamoDB leaves unprocessed sent again), 4 at once.
async fn seed(stack: &TestStack, size: usize) {
    use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
    let client = aws_sdk_dynamodb::Client::new(&stack.sdk);
    let table = stack.provisioned.var("AUDIT_TABLE").to_owned();
    assert!(!table.is_empty(), "the stack's AUDIT_TABLE");
    let now = shared::time::now();
    let entry = |i: usize| AuditEntry {
        id: uuid::Uuid::new_v4().to_string(),
        org_id: ACME.into(),
        action: AuditAction::ALL[i % AuditAction::ALL.len()],
        occurred_at: now - chrono::Duration::seconds((i as i64 * 25_920_000) / size as i64 + 1),
        actor_id: ACME_ADMIN.sub.into(),
        actor_name: ACME_ADMIN.name.into(),
        target_id: format!("member-{i:07}"),
        target_name: format!("Member {i}"),
        request_id: format!("bench-{i}"),
        source_ip: "203.0.113.24".into(),
        user_agent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 AdminConsole/1.0".into(),
        role_change: None,
    };
    let mut tasks = tokio::task::JoinSet::new();
    for lane in 0..4 {
        let (client, table) = (client.clone(), table.clone());
        let batches: Vec<Vec<WriteRequest>> = (0..size)
            .filter(|i| (i / 25) % 4 == lane)
            .map(|i| {
                let item = shared::store::audit_item(&entry(i));
                WriteRequest::builder().put_request(PutRequest::builder().set_item(Some(item)).build().unwrap()).build()
            })
            .collect::<Vec<_>>()
            .chunks(25)
            .map(<[WriteRequest]>::to_vec)
            .collect();
        tasks.spawn(async move {
            for mut batch in batches {
                while !batch.is_empty() {
                    let output = client
                        .batch_write_item()
                        .request_items(&table, batch)
                        .send()
                        .await
                        .expect("seed a batch of entries");
                    batch = output.unprocessed_items.and_then(|mut left| left.remove(&table)).unwrap_or_default();
                }
            }
        });
    }
    tasks.join_all().await;
}
