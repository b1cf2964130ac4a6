//! The export's file in the bucket (`EXPORT_BUCKET`): streamed up as it is written, a part at
//! a time (S3 multipart upload: parts of [`PART_SIZE`], the last one smaller), so that memory
//! holds one part whatever the range; a file smaller than one part is one `PutObject`. Read
//! back through a presigned GET valid [`URL_VALIDITY`].

use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use std::time::Duration;

/// S3's smallest part but the last is 5 MiB; 8 MiB halves the calls for a small cost in memory.
pub const PART_SIZE: usize = 8 * 1024 * 1024;
pub const URL_VALIDITY: Duration = Duration::from_secs(600);

pub type FileError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, Clone)]
pub struct Bucket {
    pub client: aws_sdk_s3::Client,
    pub name: String,
}

/// A file being written: what is uploaded so far.
pub struct Upload<'a> {
    bucket: &'a Bucket,
    key: String,
    content_type: &'static str,
    disposition: String,
    upload_id: Option<String>,
    parts: Vec<CompletedPart>,
}

impl Bucket {
    pub fn upload(&self, key: String, content_type: &'static str, file_name: &str) -> Upload<'_> {
        Upload {
            bucket: self,
            key,
            content_type,
            disposition: format!("attachment; filename=\"{file_name}\""),
            upload_id: None,
            parts: Vec::new(),
        }
    }

    /// A GET of `key` anyone holding the URL may make for [`URL_VALIDITY`].
    pub async fn presigned_get(&self, key: &str) -> Result<String, FileError> {
        let config = PresigningConfig::expires_in(URL_VALIDITY)?;
        let request = self.client.get_object().bucket(&self.name).key(key).presigned(config).await?;
        Ok(request.uri().to_owned())
    }
}

impl Upload<'_> {
    /// Uploads `bytes` as the next part (at least [`PART_SIZE`] but for the last).
    pub async fn part(&mut self, bytes: Vec<u8>) -> Result<(), FileError> {
        let upload_id = match &self.upload_id {
            Some(id) => id.clone(),
            None => {
                let created = self
                    .bucket
                    .client
                    .create_multipart_upload()
                    .bucket(&self.bucket.name)
                    .key(&self.key)
                    .content_type(self.content_type)
                    .content_disposition(&self.disposition)
                    .send()
                    .await?;
                let id = created.upload_id().ok_or("no upload id")?.to_owned();
                self.upload_id = Some(id.clone());
                id
            }
        };
        let number = i32::try_from(self.parts.len() + 1)?;
        let uploaded = self
            .bucket
            .client
            .upload_part()
            .bucket(&self.bucket.name)
            .key(&self.key)
            .upload_id(&upload_id)
            .part_number(number)
            .body(ByteStream::from(bytes))
            .send()
            .await?;
        self.parts.push(CompletedPart::builder().part_number(number).set_e_tag(uploaded.e_tag).build());
        Ok(())
    }

    /// Finishes the file with `rest`: its last part, or the whole file in one call when no
    /// part was uploaded.
    pub async fn finish(&mut self, rest: Vec<u8>) -> Result<(), FileError> {
        if self.upload_id.is_none() {
            self.bucket
                .client
                .put_object()
                .bucket(&self.bucket.name)
                .key(&self.key)
                .content_type(self.content_type)
                .content_disposition(&self.disposition)
                .body(ByteStream::from(rest))
                .send()
                .await?;
            return Ok(());
        }
        if !rest.is_empty() {
            self.part(rest).await?;
        }
        let upload_id = self.upload_id.clone().unwrap_or_default();
        let parts = CompletedMultipartUpload::builder().set_parts(Some(std::mem::take(&mut self.parts))).build();
        self.bucket
            .client
            .complete_multipart_upload()
            .bucket(&self.bucket.name)
            .key(&self.key)
            .upload_id(upload_id)
            .multipart_upload(parts)
            .send()
            .await?;
        Ok(())
    }

    /// Gives up the parts uploaded so far (the bucket's lifecycle rule would, after a day).
    pub async fn abort(&self) {
        let Some(upload_id) = &self.upload_id else { return };
        let aborted = self
            .bucket
            .client
            .abort_multipart_upload()
            .bucket(&self.bucket.name)
            .key(&self.key)
            .upload_id(upload_id)
            .send()
            .await;
        if let Err(error) = aborted {
            tracing::warn!(error = %aws_sdk_s3::error::DisplayErrorContext(&error), "AbortMultipartUpload failed");
        }
    }
}
