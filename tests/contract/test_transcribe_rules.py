"""Amazon Transcribe batch-job rules the bridge relies on, each with its source (the botocore model `transcribe`, the
developer guide, AWS's recorded answers), checked against the project's one fake through a real boto3 client; S3 from
moto. Where the sources disagree, docs/sandbox.md#amazon-transcribe says which one the fake follows."""

from __future__ import annotations

import json
import re

import botocore.session
import pytest
from botocore.exceptions import ClientError

from sandbox.fakes import transcribe as fake_transcribe
from sandbox.fakes.constraints import dialect, ecma_pattern, violations
from tests.contract.conftest import BUCKET
from tests.fixtures.fakes import NO_RETRIES
from whatsapp_buffer.inbound.burst_transcripts import transcript_text
from whatsapp_buffer.storage_keys import job_name

MODEL = botocore.session.get_session().get_service_model("transcribe")
START = MODEL.operation_model("StartTranscriptionJob")


def _doc(member: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", START.input_shape.members[member].documentation))


@pytest.fixture
def transcribe(aws):
    aws.s3.put_object(Bucket=BUCKET, Key="inbound/b/1-m.wav", Body=b"RIFF")
    aws.fake.transcribe.transcript_for = lambda bucket, key: "my order never arrived"
    return aws.fake.client("transcribe", config=NO_RETRIES)


def _start(client, name="job-1", **extra):
    params = {
        "TranscriptionJobName": name,
        "Media": {"MediaFileUri": f"s3://{BUCKET}/inbound/b/1-m.wav"},
        "MediaFormat": "wav",
        "OutputBucketName": BUCKET,
        "OutputKey": f"transcripts/{name}.json",
        **extra,
    }
    if not set(fake_transcribe.LANGUAGE_MODES) & set(extra):
        params["LanguageCode"] = "en-US"
    return client.start_transcription_job(**params)


def _code(excinfo) -> str:
    return excinfo.value.response["Error"]["Code"]


def _status(excinfo) -> int:
    return excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"]


def _model_status(code: str) -> int:
    return MODEL.shape_for(code).metadata["error"]["httpStatusCode"]


def _finished(aws, transcribe, name="job-1") -> dict:
    aws.clock[0] += fake_transcribe.TURNAROUND_SECONDS
    return transcribe.get_transcription_job(TranscriptionJobName=name)["TranscriptionJob"]


def test_a_job_name_is_unique_so_a_second_start_of_the_same_recording_is_a_conflict_409(transcribe):
    """TranscriptionJobName: "must be unique within an Amazon Web Services account. If you try to create a new job
    with the same name as an existing job, you get a ConflictException error." ConflictException: "A resource already
    exists with this name", `error.httpStatusCode` 409. (The API Reference's Errors section says "HTTP Status Code:
    400" and a recorded AWS answer had 400: the fake follows the model; the bridge reads the code only.)"""
    assert "you get a ConflictException error" in _doc("TranscriptionJobName")
    assert _model_status("ConflictException") == 409
    _start(transcribe)
    with pytest.raises(ClientError) as excinfo:
        _start(transcribe)
    assert (_code(excinfo), _status(excinfo)) == ("ConflictException", 409)


def test_the_bridges_job_names_match_the_models_pattern_whole_and_fit_its_length():
    """TranscriptionJobName: pattern `^[0-9a-zA-Z._-]+`, max 200 (matched whole: see the next test)."""
    shape = START.input_shape.members["TranscriptionJobName"]
    assert shape.metadata["pattern"] == "^[0-9a-zA-Z._-]+" and shape.metadata["max"] == 200
    for media_id in ("1234567890", "wamid.HBgL+/=", "x" * 400):
        name = job_name("whatsapp-buffer-media-0a1b2c3", media_id)
        assert ecma_pattern(shape.metadata["pattern"]).fullmatch(name) and len(name) <= 200


def test_a_job_name_whose_start_alone_matches_the_pattern_is_refused_as_aws_refused_one_with_a_slash(transcribe):
    """AWS's answer to StartTranscriptionJob with a name holding a slash (recorded in the GitHub issue
    linuxacademy/content-aws-mls-c01#1): "BadRequestException ... 1 validation error detected: Value
    'test/key-6faaec2c-d40c-4822-ad25-e4a1922037a8' at 'transcriptionJobName' failed to satisfy constraint: Member must
    satisfy regular expression pattern: ^[0-9a-zA-Z._-]+". Searched, the pattern matches that name's start ("test"),
    so Transcribe matches this pattern whole: the constraint check applies Transcribe's dialect, where Smithy's
    reading (search) would let it pass."""
    name = "test/key-6faaec2c-d40c-4822-ad25-e4a1922037a8"
    assert not list(violations(START.input_shape.members["TranscriptionJobName"], name))
    assert list(violations(START.input_shape.members["TranscriptionJobName"], name, dialect=dialect("transcribe")))
    with pytest.raises(ClientError) as excinfo:
        _start(transcribe, name)
    assert _code(excinfo) == "BadRequestException"
    assert excinfo.value.response["Error"]["Message"] == (
        f"1 validation error detected: Value '{name}' at 'transcriptionJobName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: ^[0-9a-zA-Z._-]+"
    )


@pytest.mark.parametrize(
    "languages",
    [
        {"LanguageCode": "en-US", "IdentifyLanguage": True},
        {"LanguageCode": "en-US", "IdentifyMultipleLanguages": True},
        {"IdentifyLanguage": True, "IdentifyMultipleLanguages": True},
    ],
    ids=["code-and-identify", "code-and-multiple", "identify-and-multiple"],
)
def test_more_than_one_language_mode_is_accepted_and_the_job_fails_with_a_reason(aws, transcribe, languages):
    """LanguageCode, IdentifyLanguage and IdentifyMultipleLanguages, each: "Note that you must include one of
    LanguageCode, IdentifyLanguage, or IdentifyMultipleLanguages in your request. If you include more than one of
    these parameters, your transcription job fails." The job fails; the request is not refused. FailureReason: "If
    TranscriptionJobStatus is FAILED, FailureReason contains information about why the transcription job request
    failed" (its text for this case is not documented: the fake's own)."""
    for member in fake_transcribe.LANGUAGE_MODES:
        assert "If you include more than one of these parameters, your transcription job fails" in _doc(member)
    started = _start(transcribe, **languages)["TranscriptionJob"]
    assert started["TranscriptionJobStatus"] == "IN_PROGRESS"
    job = _finished(aws, transcribe)
    assert job["TranscriptionJobStatus"] == "FAILED"
    assert job["FailureReason"] == fake_transcribe.MORE_THAN_ONE_MODE


def test_a_job_without_any_language_mode_is_refused_as_aws_refuses_it(transcribe):
    """LanguageCode: "you must include one of LanguageCode, IdentifyLanguage, or IdentifyMultipleLanguages in your
    request". AWS's answer to a request with none of them, recorded against AWS in LocalStack's test_transcribe
    snapshot (test_failing_start_transcription_job, "MissingLanguageCode"): BadRequestException, HTTP 400, "The
    language code is missing. Either add a language code or turn on language identification." """
    assert "you must include one of LanguageCode, IdentifyLanguage, or IdentifyMultipleLanguages" in _doc(
        "LanguageCode"
    )
    with pytest.raises(ClientError) as excinfo:
        transcribe.start_transcription_job(
            TranscriptionJobName="j", Media={"MediaFileUri": f"s3://{BUCKET}/inbound/b/1-m.wav"}
        )
    assert (_code(excinfo), _status(excinfo)) == ("BadRequestException", 400)
    assert excinfo.value.response["Error"]["Message"] == fake_transcribe.NO_LANGUAGE


def test_language_options_without_language_identification_are_refused(transcribe):
    """LanguageOptions: "If you include LanguageOptions in your request, you must also include IdentifyLanguage."
    (Whether AWS refuses the request or fails the job is not documented: the fake refuses it.)"""
    assert "you must also include IdentifyLanguage" in _doc("LanguageOptions")
    with pytest.raises(ClientError) as excinfo:
        _start(transcribe, LanguageCode="en-US", LanguageOptions=["en-US", "es-US"])
    assert _code(excinfo) == "BadRequestException"


def test_language_options_with_multiple_language_identification_are_accepted(aws, transcribe):
    """IdentifyMultipleLanguages: "If you include IdentifyMultipleLanguages, you can optionally include a list of
    language codes, using LanguageOptions, that you think may be present in your media file." """
    assert "If you include IdentifyMultipleLanguages, you can optionally include a list of language codes" in _doc(
        "IdentifyMultipleLanguages"
    )
    started = _start(transcribe, IdentifyMultipleLanguages=True, LanguageOptions=["en-US", "es-US"])
    assert started["TranscriptionJob"]["TranscriptionJobStatus"] == "IN_PROGRESS"
    assert _finished(aws, transcribe)["TranscriptionJobStatus"] == "COMPLETED"


def test_language_identification_takes_two_or_more_options(transcribe):
    """LanguageOptions: "You can specify two or more language codes" (the model's `min` is 1; the fake follows the
    text, the bridge only ever sends two or more)."""
    assert "two or more language codes" in _doc("LanguageOptions")
    with pytest.raises(ClientError):
        _start(transcribe, IdentifyLanguage=True, LanguageOptions=["en-US"])
    _start(transcribe, IdentifyLanguage=True, LanguageOptions=["en-US", "es-US"])


def test_language_identification_without_options_picks_among_every_language_and_completes(aws, transcribe):
    """IdentifyLanguage: "you can optionally include a list of language codes, using LanguageOptions"; "Including
    LanguageOptions restricts IdentifyLanguage to only the language options that you specify". LanguageOptions: "If
    you're unsure what languages are present, do not include this parameter." So a job without options is valid and
    names the language it identified."""
    assert "you can optionally include a list of language codes" in _doc("IdentifyLanguage")
    assert "If you're unsure what languages are present, do not include this parameter" in _doc("LanguageOptions")
    started = _start(transcribe, IdentifyLanguage=True)["TranscriptionJob"]
    assert "LanguageOptions" not in started
    aws.clock[0] += fake_transcribe.TURNAROUND_SECONDS
    job = transcribe.get_transcription_job(TranscriptionJobName="job-1")["TranscriptionJob"]
    assert job["TranscriptionJobStatus"] == "COMPLETED"
    assert (
        job["LanguageCode"]
        == fake_transcribe.IDENTIFIED_WITHOUT_OPTIONS
        in START.input_shape.members["LanguageCode"].enum
    )


def test_wav_is_a_media_format_and_whatsapps_aac_is_not_so_the_bridge_sends_its_wav():
    """MediaFormat enum: mp3, mp4, wav, flac, ogg, amr, webm, m4a. WhatsApp's AAC audio (audio/aac) is not among
    them; the converted WAV always is."""
    formats = set(START.input_shape.members["MediaFormat"].enum)
    assert formats == {"mp3", "mp4", "wav", "flac", "ogg", "amr", "webm", "m4a"}
    assert "aac" not in formats


@pytest.mark.parametrize(
    ("member", "extra"),
    [
        ("mediaFormat", {"MediaFormat": "aac"}),
        ("languageCode", {"LanguageCode": "xx-XX"}),
        ("languageOptions.2.member", {"IdentifyLanguage": True, "LanguageOptions": ["en-US", "xx-XX"]}),
    ],
    ids=["media-format", "language-code", "language-option"],
)
def test_a_media_format_or_language_code_off_the_models_enum_is_refused(transcribe, member, extra):
    """MediaFormat and LanguageCode (also each LanguageOptions member) are enums in the model. AWS enforces them at the
    request, as recorded against AWS in LocalStack's test_transcribe snapshot (test_failing_start_transcription_job,
    "MalformedLanguageCode"): BadRequestException "1 validation error detected: Value 'non-existent' at 'languageCode'
    failed to satisfy constraint: Member must satisfy enum value set: [...]", naming the member with a lower-case first
    letter. The fake's general constraint check (`sandbox.fakes.constraints`) applies them in Transcribe's dialect;
    the fake has no list of its own."""
    with pytest.raises(ClientError) as excinfo:
        _start(transcribe, **extra)
    assert _code(excinfo) == "BadRequestException"
    assert (
        f"at '{member}' failed to satisfy constraint: Member must satisfy enum value set"
        in (excinfo.value.response["Error"]["Message"])
    )


def test_an_https_url_of_an_s3_object_is_accepted_and_read_as_its_s3_uri(aws, transcribe):
    """Media.MediaFileUri: pattern `(s3://|http(s*)://).+`; the developer guide gave as its "general form"
    "https://s3.<aws-region>.amazonaws.com/<bucket-name>/<keyprefix>/<objectkey>" (awsdocs/amazon-transcribe-
    developer-guide, API_Media.md, 2017-2020) before its examples became s3:// URIs."""
    assert START.input_shape.members["Media"].members["MediaFileUri"].metadata["pattern"] == "(s3://|http(s*)://).+"
    _start(transcribe, Media={"MediaFileUri": f"https://s3.us-east-1.amazonaws.com/{BUCKET}/inbound/b/1-m.wav"})
    assert _finished(aws, transcribe)["TranscriptionJobStatus"] == "COMPLETED"


def test_a_media_uri_that_names_no_s3_object_is_accepted_and_the_job_fails(aws, transcribe):
    """StartTranscriptionJob: "To make a StartTranscriptionJob request, you must first upload your media file into an
    Amazon S3 bucket". What AWS answers for an http(s) URL of another host is not documented: the model's pattern
    admits it, so the fake accepts the request and the job FAILS as for media it cannot read."""
    assert "you must first upload your media file into an Amazon S3 bucket" in re.sub(
        r"\s+", " ", re.sub(r"<[^>]+>", "", START.documentation)
    )
    _start(transcribe, Media={"MediaFileUri": "https://media.example.com/inbound/b/1-m.wav"})
    job = _finished(aws, transcribe)
    assert job["TranscriptionJobStatus"] == "FAILED" and job["FailureReason"] == fake_transcribe.UNREADABLE


def test_a_media_uri_off_the_models_pattern_is_refused(transcribe):
    """Media.MediaFileUri: pattern `(s3://|http(s*)://).+` (the general constraint check)."""
    with pytest.raises(ClientError) as excinfo:
        _start(transcribe, Media={"MediaFileUri": "ftp://media.example.com/1-m.wav"})
    assert _code(excinfo) == "BadRequestException"
    assert (
        "Member must satisfy regular expression pattern: (s3://|http(s*)://).+"
        in (excinfo.value.response["Error"]["Message"])
    )


def test_a_job_completes_after_its_turnaround_and_writes_the_transcript_to_the_exact_output_key(aws, transcribe):
    """OutputKey: "If you specify 'DOC-EXAMPLE-BUCKET' as the OutputBucketName and 'test-files/my-transcript.json'
    as the OutputKey, your transcription output path is s3://DOC-EXAMPLE-BUCKET/test-files/my-transcript.json";
    GetTranscriptionJob: "If the status is COMPLETED, the job is finished. You can find the results at the location
    specified in TranscriptFileUri." """
    assert "s3://DOC-EXAMPLE-BUCKET/test-files/my-transcript.json" in _doc("OutputKey")
    _start(transcribe)
    assert (
        transcribe.get_transcription_job(TranscriptionJobName="job-1")["TranscriptionJob"]["TranscriptionJobStatus"]
        == "IN_PROGRESS"
    )
    aws.clock[0] += fake_transcribe.TURNAROUND_SECONDS
    job = transcribe.get_transcription_job(TranscriptionJobName="job-1")["TranscriptionJob"]
    assert job["TranscriptionJobStatus"] == "COMPLETED"
    assert job["Transcript"]["TranscriptFileUri"].endswith(f"/{BUCKET}/transcripts/job-1.json")
    document = aws.s3.get_object(Bucket=BUCKET, Key="transcripts/job-1.json")["Body"].read()
    assert transcript_text(document) == "my order never arrived"
    assert json.loads(document)["results"]["transcripts"][0]["transcript"] == "my order never arrived"


def test_a_job_whose_media_cannot_be_read_fails_with_a_reason(aws, transcribe):
    """TranscriptionJob.FailureReason: "If TranscriptionJobStatus is FAILED, FailureReason contains information about
    why the transcription job request failed." """
    _start(transcribe, Media={"MediaFileUri": f"s3://{BUCKET}/inbound/b/missing.wav"})
    aws.clock[0] += fake_transcribe.TURNAROUND_SECONDS
    job = transcribe.get_transcription_job(TranscriptionJobName="job-1")["TranscriptionJob"]
    assert job["TranscriptionJobStatus"] == "FAILED" and job["FailureReason"]


def test_reading_an_unknown_job_is_not_found_404(transcribe):
    """GetTranscriptionJob's errors: BadRequestException, LimitExceededException, InternalFailureException,
    NotFoundException ("We can't find the requested resource"), `error.httpStatusCode` 404. (A recorded AWS answer,
    LocalStack's test_transcribe snapshot "GetError", was BadRequestException, HTTP 400, "The requested job couldn't
    be found": the fake follows the model; the bridge reads both codes alike.)"""
    assert "NotFoundException" in [e.name for e in MODEL.operation_model("GetTranscriptionJob").error_shapes]
    assert _model_status("NotFoundException") == 404
    with pytest.raises(ClientError) as excinfo:
        transcribe.get_transcription_job(TranscriptionJobName="nobody")
    assert (_code(excinfo), _status(excinfo)) == ("NotFoundException", 404)


def test_botocore_speaks_json_to_transcribe_and_the_fake_also_answers_rpc_v2_cbor(aws):
    """The model's `protocols` are ["smithy-rpc-v2-cbor", "json"]; botocore picks json (first of its own priority
    list), an SDK preferring CBOR gets the same answers."""
    assert MODEL.metadata["protocols"] == ["smithy-rpc-v2-cbor", "json"] and MODEL.resolved_protocol == "json"
    status, headers, body = fake_transcribe.encode_error(
        fake_transcribe.CBOR, fake_transcribe.ApiError("ConflictException", "x", 400)
    )
    assert status == 400 and headers["smithy-protocol"] == "rpc-v2-cbor"
    assert fake_transcribe.decode(fake_transcribe.CBOR, body) == {"__type": "ConflictException", "message": "x"}


@pytest.mark.parametrize(("code", "status"), [("LimitExceededException", 429), ("InternalFailureException", 500)])
def test_an_injected_error_answers_with_the_http_status_the_model_gives_it(aws, transcribe, code, status):
    """StartTranscriptionJob's errors carry their status in the model (`error.httpStatusCode`: LimitExceededException
    429, InternalFailureException 500, BadRequestException 400, ConflictException 409); botocore's retries go by it."""
    shape = MODEL.shape_for(code)
    assert code in [s.name for s in START.error_shapes] and shape.metadata["error"]["httpStatusCode"] == status
    aws.fake.inject("transcribe:StartTranscriptionJob", code, times=1)
    with pytest.raises(ClientError) as excinfo:
        _start(transcribe)
    assert _code(excinfo) == code
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
