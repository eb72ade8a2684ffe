"""Amazon Transcribe adapter: batch jobs over recordings in the media bucket, transcripts written back to it.

A job reads `s3://<media bucket>/<key>` with the caller's permissions and writes its transcript JSON to exactly
`OutputKey` in `OutputBucketName` (botocore StartTranscriptionJob.OutputKey: "If you specify 'DOC-EXAMPLE-BUCKET' as
the OutputBucketName and 'test-files/my-transcript.json' as the OutputKey, your transcription output path is
s3://DOC-EXAMPLE-BUCKET/test-files/my-transcript.json"), so the inbound role needs s3:GetObject on the recordings and
s3:PutObject on the transcripts (components/chat_policies.py). Job names are unique per account and region
(ConflictException otherwise): a second start of the same name means the recording is already being transcribed.
"""

from __future__ import annotations

from typing import Any

import boto3

from whatsapp_buffer.adapters.aws_errors import TRANSCRIBE
from whatsapp_buffer.errors import TranscriptionAlreadyStarted
from whatsapp_buffer.inbound.ports import JobState


class TranscribeJobs:
    """Starts and reads transcription jobs whose media and output live in one bucket."""

    def __init__(self, bucket: str, client: Any = None) -> None:
        self.bucket = bucket
        self._client = client or boto3.client("transcribe")

    def start(
        self, job_name: str, media_key: str, media_format: str, languages: tuple[str, ...], output_key: str
    ) -> bool:
        """Start the job; False when a job of this name exists already (the same recording, started before)."""
        params: dict[str, Any] = {
            "TranscriptionJobName": job_name,
            "Media": {"MediaFileUri": f"s3://{self.bucket}/{media_key}"},
            "MediaFormat": media_format,
            "OutputBucketName": self.bucket,
            "OutputKey": output_key,
        }
        if len(languages) == 1:
            params["LanguageCode"] = languages[0]
        else:
            params["IdentifyLanguage"] = True
            params["LanguageOptions"] = list(languages)
        try:
            with TRANSCRIBE.translating("StartTranscriptionJob"):
                self._client.start_transcription_job(**params)
        except TranscriptionAlreadyStarted:
            return False
        return True

    def state(self, job_name: str) -> JobState:
        with TRANSCRIBE.translating("GetTranscriptionJob"):
            job = self._client.get_transcription_job(TranscriptionJobName=job_name)["TranscriptionJob"]
        return JobState(job["TranscriptionJobStatus"], job.get("FailureReason"))
