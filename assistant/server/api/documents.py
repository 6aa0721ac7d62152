"""The collection's routes: list, read, upload (admin) and remove (admin) documents."""
from __future__ import annotations

from fastapi import Depends, File, UploadFile
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from ..access import Caller
from ..uploads import UploadTally
from . import deps
from .answering import Answering
from .errors import ApiError, error_body
from .routes import Routes
from .security import admin_only, caller

routes = Routes(tags=["documents"])


@routes.get("/api/documents", summary="The indexed documents")
async def list_documents(caller: Caller = Depends(caller), assistant=Depends(deps.assistant)):
    docs = await run_in_threadpool(assistant.documents)
    return {"documents": [d.summary() for d in docs]}


@routes.get("/api/documents/{document_id}", summary="One document with its text",
            description="Citation `start`/`end` offsets index into `text`; `pages` holds each PDF page's start offset.")
async def get_document(document_id: str, caller: Caller = Depends(caller), assistant=Depends(deps.assistant)):
    doc = await run_in_threadpool(assistant.document, document_id)
    if doc is None:
        raise ApiError(404, f"no document {document_id}", "not_found_error")
    return {**doc.summary(), "text": doc.text, "pages": doc.pages}


@routes.post("/api/documents", summary="Upload and ingest files (admin)", status_code=201)
async def upload(file: list[UploadFile] = File(..., description="one or more files: txt, md, html, pdf, docx"),
                 caller: Caller = Depends(caller), assistant=Depends(deps.assistant),
                 answering: Answering = Depends(deps.answering)):
    admin_only(caller)
    tally = UploadTally()
    for f in file:
        data = await f.read()
        tally.add((await run_in_threadpool(assistant.add_bytes, data, f.filename or "upload")).to_dict())
        answering.cache.invalidate()
    if tally.nothing_kept():
        first = tally.total["failed"][0]
        body = error_body(f"{first['path']}: {first['reason']}", "invalid_request_error", 422)
        return JSONResponse({**body, **tally.total}, status_code=422)
    return tally.total


@routes.delete("/api/documents/{document_id}", summary="Remove a document (admin)")
async def delete_document(document_id: str, caller: Caller = Depends(caller), assistant=Depends(deps.assistant),
                          answering: Answering = Depends(deps.answering)):
    admin_only(caller)
    found = await run_in_threadpool(assistant.remove, document_id)
    answering.cache.invalidate()
    if not found:
        raise ApiError(404, f"no document {document_id}", "not_found_error")
    info = await run_in_threadpool(assistant.status)
    return {"removed": document_id, "documents": info["documents"], "chunks": info["chunks"]}
