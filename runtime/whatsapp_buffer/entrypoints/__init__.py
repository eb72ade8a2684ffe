"""The Lambda entry modules, one per function (`whatsapp_buffer.entrypoints.<function>.handler`), all of one shape:

* `installed = bootstrap.Installed(bootstrap.<function>)`: the use case the handler calls, composed from the
  environment on the first invocation and kept for the warm container's life (`installed.reset()` forgets it);
* `build = installed.build`: `build(settings=None, *, <parts>)` composes and installs it from the typed settings and
  the parts a test or the sandbox hands in (`bootstrap.<function>` says which); what is not handed in is built;
* `handler(event, context)`, under `observability.lambda_handler`: parse the event, call the use case, answer.

A function several triggers invoke lists them in one table, `TRIGGERS`, and refuses an event no row recognises
(`UnsupportedEvent`); a one-trigger function refuses any other event (`entrypoints.recognise`), but outreach answers
it `{"result": "refused"}` (`outreach.request.parse`): a flow must get an answer. The sweeper ignores its event.
"""
