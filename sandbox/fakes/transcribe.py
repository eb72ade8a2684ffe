"""The fake of Amazon Transcribe's batch API (StartTranscriptionJob, GetTranscriptionJob), one of `FakeServices`.

moto's Transcribe moves a job one status further on every read and writes no transcript; this fake finishes a job
`turnaround_seconds` of virtual time after its start (10 s by default: an assumption, no AWS figure found) and
writes the words `transcript_for(bucket, key)` returns to the output key (None: the job fails). `events_due(at)`
returns each finished job's "Transcribe Job State Change" event once. It serves both wire protocols the model lists
(json and smithy-rpc-v2-cbor). The rules, from the botocore model `transcribe` and the developer guide, quoted:
docs/sandbox.md#amazon-transcribe; each is pinned by a test in `tests/contract/`.
"""

from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import botocore.session
from botocore.model import ShapeResolver
from botocore.parsers import BaseCBORParser
from botocore.serialize import CBORSerializer

from sandbox.fakes.constraints import dialect, summary, violations
from sandbox.fakes.rest_json import ApiError, model_error_status

SERVICE = "transcribe"
PATH_PREFIX = "/service/Transcribe/operation/"
MODEL = botocore.session.get_session().get_service_model(SERVICE)
LANGUAGE_MODES = ("LanguageCode", "IdentifyLanguage", "IdentifyMultipleLanguages")
TURNAROUND_SECONDS = 10.0
ACCOUNT = "123456789012"
IDENTIFIED_WITHOUT_OPTIONS = "en-US"
"""What an identification job with no LanguageOptions reports as spoken: Transcribe then picks among every language
it supports (IdentifyLanguage: the options only "restrict" it); the fake cannot listen, so it names this one."""
UNREADABLE = "The S3 URI that you provided can't be accessed. Make sure that you have read permission and try your request again."
NO_LANGUAGE = "The language code is missing. Either add a language code or turn on language identification."
MORE_THAN_ONE_MODE = "Include only one of LanguageCode, IdentifyLanguage or IdentifyMultipleLanguages in your request."
"""The fake's FailureReason for a job given more than one language mode (AWS's own text is not documented)."""
_S3_HTTPS = re.compile(r"https?://s3(?:[.-][a-z0-9-]+)?\.amazonaws\.com/(?P<bucket>[^/]+)/(?P<key>.+)")
"""The path-style S3 URL the developer guide once gave as MediaFileUri's general form."""

_ERROR_SHAPE = ShapeResolver(
    {"Error": {"type": "map", "key": {"shape": "S"}, "value": {"shape": "S"}}, "S": {"type": "string"}}
).get_shape_by_name("Error")


@dataclass
class Job:
    name: str
    media_uri: str
    media_format: str | None
    languages: list[str]
    identify: bool
    output_bucket: str | None
    output_key: str | None
    created_at: float
    done_at: float
    status: str = "IN_PROGRESS"
    failure: str | None = None
    doomed: str | None = None
    """Why the job fails when it finishes, whatever its media (None: it depends on the media)."""
    language_code: str | None = None
    announced: bool = False
    """Its state change event was emitted."""

    def view(self) -> dict[str, Any]:
        job: dict[str, Any] = {
            "TranscriptionJobName": self.name,
            "TranscriptionJobStatus": self.status,
            "Media": {"MediaFileUri": self.media_uri},
            "CreationTime": self.created_at,
            "StartTime": self.created_at,
        }
        if self.media_format:
            job["MediaFormat"] = self.media_format
        if self.identify:
            job["IdentifyLanguage"] = True
            if self.languages:
                job["LanguageOptions"] = list(self.languages)
        if self.language_code:
            job["LanguageCode"] = self.language_code
        if self.status == "COMPLETED":
            job["CompletionTime"] = self.done_at
            job["Transcript"] = {
                "TranscriptFileUri": f"https://s3.amazonaws.com/{self.output_bucket}/{self.output_key}"
            }
        if self.status == "FAILED":
            job["CompletionTime"] = self.done_at
            job["FailureReason"] = self.failure
        return job


def _error(code: str, message: str) -> ApiError:
    """Error `code` at the HTTP status the model gives it (`error.httpStatusCode`)."""
    return ApiError(code, message, model_error_status(MODEL, code))


def _bad(message: str) -> ApiError:
    return _error("BadRequestException", message)


class TranscribeBackend:
    """Batch transcription jobs of one account; `s3_client` reads the media and writes the transcript."""

    def __init__(
        self,
        s3_client: Any = None,
        *,
        transcript_for: Callable[[str, str], str | None] | None = None,
        turnaround_seconds: float = TURNAROUND_SECONDS,
    ) -> None:
        self.s3_client = s3_client
        self.transcript_for = transcript_for or (lambda bucket, key: "")
        self.turnaround_seconds = turnaround_seconds
        self.jobs: dict[str, Job] = {}

    def start_transcription_job(self, params: dict[str, Any], at: float) -> dict[str, Any]:
        name = str(params.get("TranscriptionJobName") or "")
        if name in self.jobs:
            raise _error("ConflictException", "The requested job name already exists. Use a different job name.")
        media_format = params.get("MediaFormat")
        language = params.get("LanguageCode")
        identify = bool(params.get("IdentifyLanguage"))
        modes = [mode for mode in LANGUAGE_MODES if params.get(mode)]
        if not modes:
            raise _bad(NO_LANGUAGE)
        options = list(params.get("LanguageOptions") or [])
        if options and not (identify or params.get("IdentifyMultipleLanguages")):
            raise _bad("LanguageOptions requires IdentifyLanguage.")
        if options and len(options) < 2:
            raise _bad("LanguageOptions needs two or more language codes.")
        uri = str((params.get("Media") or {}).get("MediaFileUri") or "")
        output_bucket = params.get("OutputBucketName")
        output_key = params.get("OutputKey") or f"{name}.json"
        if output_key.endswith("/"):
            output_key = f"{output_key}{name}.json"
        job = Job(
            name=name,
            media_uri=uri,
            media_format=media_format,
            languages=options if identify else [language] if language else [],
            identify=identify,
            output_bucket=output_bucket,
            output_key=output_key,
            created_at=at,
            done_at=at + self.turnaround_seconds,
            language_code=language,
            doomed=MORE_THAN_ONE_MODE if len(modes) > 1 else None,
        )
        self.jobs[name] = job
        return {"TranscriptionJob": job.view()}

    def get_transcription_job(self, params: dict[str, Any], at: float) -> dict[str, Any]:
        name = str(params.get("TranscriptionJobName") or "")
        job = self.jobs.get(name)
        if job is None:
            raise _error(
                "NotFoundException",
                "The requested job couldn't be found. Check the job name and try your request again.",
            )
        if job.status == "IN_PROGRESS" and at >= job.done_at:
            self._finish(job)
        return {"TranscriptionJob": job.view()}

    def events_due(self, at: float, *, region: str = "us-east-1") -> list[dict[str, Any]]:
        """Finish the jobs whose turnaround is over; each finished job's "Transcribe Job State Change" event, once."""
        events = []
        for job in sorted(self.jobs.values(), key=lambda j: (j.done_at, j.name)):
            if job.announced or at < job.done_at:
                continue
            if job.status == "IN_PROGRESS":
                self._finish(job)
            job.announced = True
            events.append(state_change_event(job, region))
        return events

    def next_event_at(self) -> float | None:
        """When the next job still to announce finishes (None: none)."""
        due = [job.done_at for job in self.jobs.values() if not job.announced]
        return min(due) if due else None

    def _finish(self, job: Job) -> None:
        if job.doomed:
            job.status, job.failure = "FAILED", job.doomed
            return
        location = media_object(job.media_uri)
        words = None if location is None else self.transcript_for(*location)
        readable = location is not None and self.s3_client is not None and self._exists(*location)
        if words is None or not readable:
            job.status, job.failure = "FAILED", UNREADABLE
            return
        if job.identify and not job.language_code:
            job.language_code = job.languages[0] if job.languages else IDENTIFIED_WITHOUT_OPTIONS
        document = {
            "jobName": job.name,
            "accountId": ACCOUNT,
            "status": "COMPLETED",
            "results": {"transcripts": [{"transcript": words}], "items": []},
        }
        self.s3_client.put_object(Bucket=job.output_bucket, Key=job.output_key, Body=json.dumps(document).encode())
        job.status = "COMPLETED"

    def _exists(self, bucket: str, key: str) -> bool:
        try:
            self.s3_client.head_object(Bucket=bucket, Key=key)
        except Exception:  # noqa: BLE001 - any refusal reads as "can't be accessed", as Transcribe reports it
            return False
        return True


def media_object(uri: str) -> tuple[str, str] | None:
    """(bucket, key) of `s3://bucket/key` or of a path-style S3 URL; None for any other URI (the job cannot read it)."""
    if uri.startswith("s3://"):
        bucket, _, key = uri[len("s3://") :].partition("/")
        return (bucket, key) if bucket and key else None
    found = _S3_HTTPS.fullmatch(uri)
    return (found["bucket"], found["key"]) if found else None


def state_change_event(job: Job, region: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"transcribe-job/{job.name}/{job.status}")),
        "detail-type": "Transcribe Job State Change",
        "source": "aws.transcribe",
        "account": ACCOUNT,
        "time": datetime.fromtimestamp(job.done_at, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [],
        "detail": {"TranscriptionJobName": job.name, "TranscriptionJobStatus": job.status},
    }


# ---------------------------------------------------------------- the wire: smithy-rpc-v2-cbor


JSON = "json"
CBOR = "cbor"
_TARGET_PREFIX = f"{MODEL.metadata['targetPrefix']}."


def operation_for(path: str, target: str | None) -> tuple[str, str] | None:
    """(operation, wire) of a Transcribe request — `X-Amz-Target: Transcribe.<Operation>` (json) or
    `/service/Transcribe/operation/<Operation>` (cbor) — else None."""
    if target and target.startswith(_TARGET_PREFIX):
        return target[len(_TARGET_PREFIX) :], JSON
    if path.startswith(PATH_PREFIX):
        return path[len(PATH_PREFIX) :], CBOR
    return None


def decode(wire: str, body: bytes) -> dict[str, Any]:
    if not body:
        return {}
    if wire == JSON:
        return json.loads(body)
    return BaseCBORParser().parse_data_item(io.BufferedReader(io.BytesIO(body)))


def validated(operation: str, params: dict[str, Any]) -> dict[str, Any]:
    """`params`, refused (BadRequestException, the model's validation error) when a member breaks its shape's
    constraints (`sandbox.fakes.constraints`)."""
    if operation in MODEL.operation_names:
        shape = MODEL.operation_model(operation).input_shape
        broken = list(violations(shape, params, dialect=dialect(MODEL.service_name)))
        if broken:
            raise _bad(summary(broken))
    return params


def encode(wire: str, operation: str, output: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    if wire == JSON:
        return 200, {"Content-Type": "application/x-amz-json-1.1"}, json.dumps(output).encode()
    serialized = bytearray()
    CBORSerializer()._serialize_data_item(serialized, output, MODEL.operation_model(operation).output_shape)
    return 200, {"Content-Type": "application/cbor", "smithy-protocol": "rpc-v2-cbor"}, bytes(serialized)


def encode_error(wire: str, error: ApiError) -> tuple[int, dict[str, str], bytes]:
    if wire == JSON:
        body = json.dumps({"__type": error.code, "message": error.message}).encode()
        return error.status or 400, {"Content-Type": "application/x-amz-json-1.1"}, body
    serialized = bytearray()
    CBORSerializer()._serialize_data_item(serialized, {"__type": error.code, "message": error.message}, _ERROR_SHAPE)
    headers = {"Content-Type": "application/cbor", "smithy-protocol": "rpc-v2-cbor"}
    return error.status or 400, headers, bytes(serialized)
