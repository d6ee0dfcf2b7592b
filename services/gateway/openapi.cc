// The gateway's REST and GraphQL routes as an OpenAPI 3.1 description,
// served at /api/v1/openapi.json. Every route the gateway answers (but the
// web page's) is here; gateway_test checks that the two agree, and
// tests/openapi/ validates the document against the OpenAPI 3.1 schema.

#include "services/gateway/gateway_impl.h"

namespace arca::gateway {
namespace {

constexpr char kOpenApi[] = R"json({
 "openapi": "3.1.0",
 "info": {
  "title": "Arca gateway",
  "version": "0.2.0",
  "summary": "Job artifacts: collect, catalog, keep and download the files jobs write.",
  "description": "REST and GraphQL over Arca's catalog, collector, retention-gc and scheduler-attribute services. Errors are JSON objects with an `error` message (GraphQL errors follow GraphQL over HTTP, with `extensions.code`). With `--tokens_file`, every route but the open ones needs `Authorization: Bearer TOKEN`; a token's groups and privacy level limit what it sees, its role what it may change.",
  "license": {
   "name": "Apache-2.0",
   "identifier": "Apache-2.0"
  }
 },
 "servers": [
  {
   "url": "/"
  }
 ],
 "security": [
  {
   "bearer": []
  },
  {}
 ],
 "tags": [
  {
   "name": "jobs",
   "description": "jobs, their steps, logs and files (o2r-muncher's shapes)"
  },
  {
   "name": "downloads"
  },
  {
   "name": "jobArtifacts",
   "description": "packages jobs run from (Mantis's shapes)"
  },
  {
   "name": "gc"
  },
  {
   "name": "scheduling"
  },
  {
   "name": "graphql",
   "description": "PrimeHub's schema"
  },
  {
   "name": "service"
  }
 ],
 "paths": {
  "/healthz": {
   "get": {
    "tags": [
     "service"
    ],
    "summary": "Alive: the gateway answers",
    "security": [],
    "responses": {
     "200": {
      "description": "alive",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "properties": {
          "status": {
           "const": "ok"
          }
         }
        }
       }
      }
     }
    }
   }
  },
  "/readyz": {
   "get": {
    "tags": [
     "service"
    ],
    "summary": "Ready: the backends answer",
    "security": [],
    "responses": {
     "200": {
      "description": "ready",
      "content": {
       "application/json": {
        "schema": {
         "type": "object"
        }
       }
      }
     },
     "503": {
      "description": "not ready, with what is missing",
      "content": {
       "application/json": {
        "schema": {
         "type": "object"
        }
       }
      }
     }
    }
   }
  },
  "/metrics": {
   "get": {
    "tags": [
     "service"
    ],
    "summary": "Prometheus metrics",
    "security": [],
    "responses": {
     "200": {
      "description": "the text exposition format",
      "content": {
       "text/plain": {
        "schema": {
         "type": "string"
        }
       }
      }
     }
    }
   }
  },
  "/api/v1/openapi.json": {
   "get": {
    "tags": [
     "service"
    ],
    "summary": "This description",
    "security": [],
    "responses": {
     "200": {
      "description": "OpenAPI 3.1",
      "content": {
       "application/json": {
        "schema": {
         "type": "object"
        }
       }
      }
     }
    }
   }
  },
  "/api/v1/job": {
   "get": {
    "tags": [
     "jobs"
    ],
    "summary": "Jobs the caller may see, newest first, with next and previous links",
    "parameters": [
     {
      "name": "limit",
      "in": "query",
      "required": false,
      "schema": {
       "type": "integer",
       "minimum": 1,
       "maximum": 1000
      },
      "description": "page size (1-1000)"
     },
     {
      "name": "start",
      "in": "query",
      "required": false,
      "schema": {
       "type": "integer",
       "minimum": 1
      },
      "description": "the first job's position, from 1"
     },
     {
      "name": "status",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string"
      },
      "description": "queued, running, success or failure"
     },
     {
      "name": "group",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string"
      },
      "description": "only this group"
     },
     {
      "name": "compendium_id",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string"
      },
      "description": "only jobs of this compendium"
     },
     {
      "name": "fields",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string"
      },
      "description": "comma list; 'status' gives {id, status} objects instead of ids"
     }
    ],
    "responses": {
     "200": {
      "description": "a page",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/JobList"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "503": {
      "$ref": "#/components/responses/Unavailable"
     }
    }
   },
   "post": {
    "tags": [
     "jobs"
    ],
    "summary": "A new job (JSON, form-urlencoded or multipart form, as o2r's clients send)",
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/NewJob"
       }
      },
      "application/x-www-form-urlencoded": {
       "schema": {
        "$ref": "#/components/schemas/NewJob"
       }
      },
      "multipart/form-data": {
       "schema": {
        "$ref": "#/components/schemas/NewJob"
       }
      }
     }
    },
    "responses": {
     "200": {
      "description": "created",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "required": [
          "job_id"
         ],
         "properties": {
          "job_id": {
           "type": "string"
          }
         }
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "503": {
      "$ref": "#/components/responses/Unavailable"
     }
    }
   }
  },
  "/api/v1/job/{id}": {
   "get": {
    "tags": [
     "jobs"
    ],
    "summary": "One job with its steps, file tree and logs",
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      },
      "description": "the job's id"
     },
     {
      "name": "steps",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string"
      },
      "description": "a comma list of steps whose details to include, or 'all'"
     }
    ],
    "responses": {
     "200": {
      "description": "the job",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/JobDetail"
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     },
     "503": {
      "$ref": "#/components/responses/Unavailable"
     }
    }
   },
   "delete": {
    "tags": [
     "jobs"
    ],
    "summary": "Delete a job (admin); its files go as its GC strategy says",
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      },
      "description": "the job's id"
     },
     {
      "name": "force",
      "in": "query",
      "required": false,
      "schema": {
       "type": "boolean"
      },
      "description": "drop the finalizers"
     }
    ],
    "responses": {
     "200": {
      "description": "purged",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Deleted"
        }
       }
      }
     },
     "202": {
      "description": "deletion requested; GC finalizers pending",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Deleted"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     },
     "503": {
      "$ref": "#/components/responses/Unavailable"
     }
    }
   }
  },
  "/api/v1/job/{id}/steps": {
   "get": {
    "tags": [
     "jobs"
    ],
    "summary": "The job's steps and derived status",
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      },
      "description": "the job's id"
     }
    ],
    "responses": {
     "200": {
      "description": "steps",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "properties": {
          "id": {
           "type": "string"
          },
          "status": {
           "type": "string"
          },
          "steps": {
           "type": "object",
           "additionalProperties": {
            "$ref": "#/components/schemas/Step"
           }
          }
         }
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     },
     "503": {
      "$ref": "#/components/responses/Unavailable"
     }
    }
   }
  },
  "/api/v1/job/{id}/logs": {
   "get": {
    "tags": [
     "jobs"
    ],
    "summary": "The job's log as text",
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      },
      "description": "the job's id"
     }
    ],
    "responses": {
     "200": {
      "description": "the log",
      "content": {
       "text/plain": {
        "schema": {
         "type": "string"
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     },
     "503": {
      "$ref": "#/components/responses/Unavailable"
     }
    }
   }
  },
  "/api/v1/job/{id}/files": {
   "get": {
    "tags": [
     "jobs"
    ],
    "summary": "One page of the job's file records, by path",
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      },
      "description": "the job's id"
     },
     {
      "name": "page_size",
      "in": "query",
      "required": false,
      "schema": {
       "type": "integer",
       "minimum": 1,
       "maximum": 1000
      },
      "description": "1-1000"
     },
     {
      "name": "page_token",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string"
      },
      "description": "from the last page's next_page_token"
     },
     {
      "name": "prefix",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string"
      },
      "description": "only paths starting so"
     },
     {
      "name": "include_deleted",
      "in": "query",
      "required": false,
      "schema": {
       "type": "boolean"
      },
      "description": "also files GC deleted"
     }
    ],
    "responses": {
     "200": {
      "description": "a page",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "required": [
          "files"
         ],
         "properties": {
          "files": {
           "type": "array",
           "items": {
            "$ref": "#/components/schemas/File"
           }
          },
          "next_page_token": {
           "type": "string"
          }
         }
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     },
     "503": {
      "$ref": "#/components/responses/Unavailable"
     }
    }
   }
  },
  "/api/v1/job/{id}/gc": {
   "get": {
    "tags": [
     "gc"
    ],
    "summary": "The job's GC status: files available, deleted, pending",
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      },
      "description": "the job's id"
     }
    ],
    "responses": {
     "200": {
      "description": "status",
      "content": {
       "application/json": {
        "schema": {
         "type": "object"
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     },
     "503": {
      "$ref": "#/components/responses/Unavailable"
     }
    }
   }
  },
  "/api/v1/job/{id}/artifacts/{path}": {
   "get": {
    "summary": "One file of a job, streamed (Range, ETag and block checks)",
    "parameters": [
     {
      "$ref": "#/components/parameters/JobId"
     },
     {
      "$ref": "#/components/parameters/FilePath"
     },
     {
      "$ref": "#/components/parameters/Range"
     },
     {
      "$ref": "#/components/parameters/IfNoneMatch"
     }
    ],
    "responses": {
     "200": {
      "$ref": "#/components/responses/FileBytes"
     },
     "206": {
      "$ref": "#/components/responses/FilePart"
     },
     "304": {
      "$ref": "#/components/responses/NotModified"
     },
     "307": {
      "$ref": "#/components/responses/Presigned"
     },
     "416": {
      "$ref": "#/components/responses/RangeNotSatisfiable"
     },
     "500": {
      "$ref": "#/components/responses/DataLoss"
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     },
     "503": {
      "$ref": "#/components/responses/Unavailable"
     }
    },
    "tags": [
     "downloads"
    ]
   },
   "head": {
    "summary": "The headers of a GET, without the body",
    "parameters": [
     {
      "$ref": "#/components/parameters/JobId"
     },
     {
      "$ref": "#/components/parameters/FilePath"
     },
     {
      "$ref": "#/components/parameters/Range"
     },
     {
      "$ref": "#/components/parameters/IfNoneMatch"
     }
    ],
    "responses": {
     "200": {
      "$ref": "#/components/responses/FileHead"
     },
     "206": {
      "$ref": "#/components/responses/FilePartHead"
     },
     "304": {
      "$ref": "#/components/responses/NotModified"
     },
     "307": {
      "$ref": "#/components/responses/Presigned"
     },
     "416": {
      "$ref": "#/components/responses/RangeNotSatisfiable"
     },
     "500": {
      "$ref": "#/components/responses/DataLoss"
     },
     "400": {
      "description": "a bad parameter or body, and what was wrong"
     },
     "401": {
      "description": "no token, or a wrong one"
     },
     "404": {
      "description": "no such job, artifact or file, or one the caller may not see"
     },
     "503": {
      "description": "a backend the gateway needs is unavailable; try again"
     }
    },
    "tags": [
     "downloads"
    ]
   }
  },
  "/api/v1/job/{id}/artifacts.zip": {
   "get": {
    "summary": "The job's files as one zip, built as it is sent (what arca get -D takes)",
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      },
      "description": "the job's id"
     },
     {
      "name": "path",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string"
      },
      "description": "only the files under this folder"
     },
     {
      "name": "pattern",
      "in": "query",
      "schema": {
       "type": "array",
       "items": {
        "type": "string"
       }
      },
      "style": "form",
      "explode": true,
      "description": "shell globs, '*' crossing '/'; repeatable"
     }
    ],
    "responses": {
     "200": {
      "description": "a zip archive (stored entries, ZIP64 where needed) with its exact Content-Length",
      "content": {
       "application/zip": {
        "schema": {
         "type": "string",
         "format": "binary"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     },
     "503": {
      "$ref": "#/components/responses/Unavailable"
     }
    },
    "tags": [
     "downloads"
    ]
   },
   "head": {
    "summary": "The headers of a GET, without the body",
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      },
      "description": "the job's id"
     },
     {
      "name": "path",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string"
      },
      "description": "only the files under this folder"
     },
     {
      "name": "pattern",
      "in": "query",
      "schema": {
       "type": "array",
       "items": {
        "type": "string"
       }
      },
      "style": "form",
      "explode": true,
      "description": "shell globs, '*' crossing '/'; repeatable"
     }
    ],
    "responses": {
     "200": {
      "description": "a zip archive (stored entries, ZIP64 where needed) with its exact Content-Length"
     },
     "400": {
      "description": "a bad parameter or body, and what was wrong"
     },
     "401": {
      "description": "no token, or a wrong one"
     },
     "404": {
      "description": "no such job, artifact or file, or one the caller may not see"
     },
     "503": {
      "description": "a backend the gateway needs is unavailable; try again"
     }
    },
    "tags": [
     "downloads"
    ]
   }
  },
  "/files/groups/{group}/jobArtifacts/{id}/{path}": {
   "get": {
    "summary": "A file by PrimeHub's download link (the console's /files/... and the SDK's /api/files/...)",
    "parameters": [
     {
      "$ref": "#/components/parameters/Group"
     },
     {
      "$ref": "#/components/parameters/JobId"
     },
     {
      "$ref": "#/components/parameters/FilePath"
     },
     {
      "$ref": "#/components/parameters/Range"
     },
     {
      "$ref": "#/components/parameters/IfNoneMatch"
     }
    ],
    "responses": {
     "200": {
      "$ref": "#/components/responses/FileBytes"
     },
     "206": {
      "$ref": "#/components/responses/FilePart"
     },
     "304": {
      "$ref": "#/components/responses/NotModified"
     },
     "307": {
      "$ref": "#/components/responses/Presigned"
     },
     "416": {
      "$ref": "#/components/responses/RangeNotSatisfiable"
     },
     "500": {
      "$ref": "#/components/responses/DataLoss"
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     },
     "503": {
      "$ref": "#/components/responses/Unavailable"
     }
    },
    "tags": [
     "downloads"
    ]
   },
   "head": {
    "summary": "The headers of a GET, without the body",
    "parameters": [
     {
      "$ref": "#/components/parameters/Group"
     },
     {
      "$ref": "#/components/parameters/JobId"
     },
     {
      "$ref": "#/components/parameters/FilePath"
     },
     {
      "$ref": "#/components/parameters/Range"
     },
     {
      "$ref": "#/components/parameters/IfNoneMatch"
     }
    ],
    "responses": {
     "200": {
      "$ref": "#/components/responses/FileHead"
     },
     "206": {
      "$ref": "#/components/responses/FilePartHead"
     },
     "304": {
      "$ref": "#/components/responses/NotModified"
     },
     "307": {
      "$ref": "#/components/responses/Presigned"
     },
     "416": {
      "$ref": "#/components/responses/RangeNotSatisfiable"
     },
     "500": {
      "$ref": "#/components/responses/DataLoss"
     },
     "400": {
      "description": "a bad parameter or body, and what was wrong"
     },
     "401": {
      "description": "no token, or a wrong one"
     },
     "404": {
      "description": "no such job, artifact or file, or one the caller may not see"
     },
     "503": {
      "description": "a backend the gateway needs is unavailable; try again"
     }
    },
    "tags": [
     "downloads"
    ]
   }
  },
  "/api/files/groups/{group}/jobArtifacts/{id}/{path}": {
   "get": {
    "summary": "A file by PrimeHub's download link (the console's /files/... and the SDK's /api/files/...)",
    "parameters": [
     {
      "$ref": "#/components/parameters/Group"
     },
     {
      "$ref": "#/components/parameters/JobId"
     },
     {
      "$ref": "#/components/parameters/FilePath"
     },
     {
      "$ref": "#/components/parameters/Range"
     },
     {
      "$ref": "#/components/parameters/IfNoneMatch"
     }
    ],
    "responses": {
     "200": {
      "$ref": "#/components/responses/FileBytes"
     },
     "206": {
      "$ref": "#/components/responses/FilePart"
     },
     "304": {
      "$ref": "#/components/responses/NotModified"
     },
     "307": {
      "$ref": "#/components/responses/Presigned"
     },
     "416": {
      "$ref": "#/components/responses/RangeNotSatisfiable"
     },
     "500": {
      "$ref": "#/components/responses/DataLoss"
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     },
     "503": {
      "$ref": "#/components/responses/Unavailable"
     }
    },
    "tags": [
     "downloads"
    ],
    "operationId": "phSdkFile"
   },
   "head": {
    "summary": "The headers of a GET, without the body",
    "parameters": [
     {
      "$ref": "#/components/parameters/Group"
     },
     {
      "$ref": "#/components/parameters/JobId"
     },
     {
      "$ref": "#/components/parameters/FilePath"
     },
     {
      "$ref": "#/components/parameters/Range"
     },
     {
      "$ref": "#/components/parameters/IfNoneMatch"
     }
    ],
    "responses": {
     "200": {
      "$ref": "#/components/responses/FileHead"
     },
     "206": {
      "$ref": "#/components/responses/FilePartHead"
     },
     "304": {
      "$ref": "#/components/responses/NotModified"
     },
     "307": {
      "$ref": "#/components/responses/Presigned"
     },
     "416": {
      "$ref": "#/components/responses/RangeNotSatisfiable"
     },
     "500": {
      "$ref": "#/components/responses/DataLoss"
     },
     "400": {
      "description": "a bad parameter or body, and what was wrong"
     },
     "401": {
      "description": "no token, or a wrong one"
     },
     "404": {
      "description": "no such job, artifact or file, or one the caller may not see"
     },
     "503": {
      "description": "a backend the gateway needs is unavailable; try again"
     }
    },
    "tags": [
     "downloads"
    ],
    "operationId": "phSdkFileHead"
   }
  },
  "/api/v1/jobArtifacts": {
   "get": {
    "tags": [
     "jobArtifacts"
    ],
    "summary": "Job artifacts by name (and version)",
    "parameters": [
     {
      "name": "name",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string"
      },
      "description": "the artifact's name"
     },
     {
      "name": "version",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string"
      },
      "description": "needs name"
     }
    ],
    "responses": {
     "200": {
      "description": "matches",
      "content": {
       "application/json": {
        "schema": {
         "type": "array",
         "items": {
          "$ref": "#/components/schemas/JobArtifact"
         }
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "503": {
      "$ref": "#/components/responses/Unavailable"
     }
    }
   },
   "post": {
    "tags": [
     "jobArtifacts"
    ],
    "summary": "Register a job artifact; the same name and version with other content is 409",
    "parameters": [
     {
      "name": "overwrite",
      "in": "query",
      "required": false,
      "schema": {
       "type": "boolean"
      },
      "description": "replace an existing one (admin; If-Match: \"revision\" makes it conditional)"
     },
     {
      "name": "If-Match",
      "in": "header",
      "schema": {
       "type": "string"
      },
      "description": "\"revision\""
     }
    ],
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/JobArtifact"
       }
      }
     }
    },
    "responses": {
     "200": {
      "description": "already there, identical",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Registered"
        }
       }
      }
     },
     "201": {
      "description": "registered",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Registered"
        }
       }
      }
     },
     "409": {
      "description": "another artifact has this name and version",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "412": {
      "description": "If-Match names another revision",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "503": {
      "$ref": "#/components/responses/Unavailable"
     }
    }
   }
  },
  "/api/v1/jobArtifacts/names": {
   "get": {
    "tags": [
     "jobArtifacts"
    ],
    "summary": "Artifact names",
    "parameters": [
     {
      "name": "prefix",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string"
      },
      "description": "names starting so"
     },
     {
      "name": "contains",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string"
      },
      "description": "names containing this"
     }
    ],
    "responses": {
     "200": {
      "description": "names, sorted",
      "content": {
       "application/json": {
        "schema": {
         "type": "array",
         "items": {
          "type": "string"
         }
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "503": {
      "$ref": "#/components/responses/Unavailable"
     }
    }
   }
  },
  "/api/v1/jobArtifacts/{id}": {
   "get": {
    "tags": [
     "jobArtifacts"
    ],
    "summary": "One job artifact",
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      }
     }
    ],
    "responses": {
     "200": {
      "description": "the artifact",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/JobArtifact"
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     },
     "503": {
      "$ref": "#/components/responses/Unavailable"
     }
    }
   },
   "delete": {
    "tags": [
     "jobArtifacts"
    ],
    "summary": "Delete a job artifact (admin)",
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "If-Match",
      "in": "header",
      "schema": {
       "type": "string"
      }
     }
    ],
    "responses": {
     "200": {
      "description": "deleted",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "properties": {
          "deleted": {
           "type": "string"
          }
         }
        }
       }
      }
     },
     "412": {
      "description": "If-Match names another revision",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     },
     "503": {
      "$ref": "#/components/responses/Unavailable"
     }
    }
   }
  },
  "/api/v1/gc/run": {
   "post": {
    "tags": [
     "gc"
    ],
    "summary": "Run a GC sweep now (admin)",
    "responses": {
     "200": {
      "description": "what the sweep did",
      "content": {
       "application/json": {
        "schema": {
         "type": "object"
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "503": {
      "$ref": "#/components/responses/Unavailable"
     }
    }
   }
  },
  "/api/v1/gc/preview": {
   "get": {
    "tags": [
     "gc"
    ],
    "summary": "What GC would delete, and when",
    "parameters": [
     {
      "name": "job_id",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string"
      },
      "description": "only this job's files"
     },
     {
      "name": "limit",
      "in": "query",
      "required": false,
      "schema": {
       "type": "integer",
       "minimum": 1,
       "maximum": 100000
      },
      "description": "at most this many entries"
     }
    ],
    "responses": {
     "200": {
      "description": "the entries",
      "content": {
       "application/json": {
        "schema": {
         "type": "object"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "503": {
      "$ref": "#/components/responses/Unavailable"
     }
    }
   }
  },
  "/api/v1/scheduling/resolve": {
   "post": {
    "tags": [
     "scheduling"
    ],
    "summary": "A job's scheduling attributes from its artifact's tags",
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object"
       }
      }
     }
    },
    "responses": {
     "200": {
      "description": "the attributes",
      "content": {
       "application/json": {
        "schema": {
         "type": "object"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     },
     "503": {
      "$ref": "#/components/responses/Unavailable"
     }
    }
   }
  },
  "/graphql": {
   "get": {
    "tags": [
     "graphql"
    ],
    "summary": "A GraphQL query in the URL (queries only)",
    "parameters": [
     {
      "name": "query",
      "in": "query",
      "required": true,
      "schema": {
       "type": "string"
      },
      "description": "the document"
     },
     {
      "name": "variables",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string"
      },
      "description": "a JSON object"
     },
     {
      "name": "operationName",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string"
      },
      "description": ""
     }
    ],
    "responses": {
     "200": {
      "description": "data and errors",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/GraphQlResponse"
        }
       }
      }
     },
     "400": {
      "description": "a request that is not GraphQL, or a query that does not parse or validate",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/GraphQlResponse"
        }
       }
      }
     },
     "401": {
      "description": "no token, or a wrong one",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/GraphQlResponse"
        }
       }
      }
     }
    }
   },
   "post": {
    "tags": [
     "graphql"
    ],
    "summary": "A GraphQL query or mutation (JSON, or form-encoded as PrimeHub's SDK posts it)",
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/GraphQlRequest"
       }
      },
      "application/graphql-response+json": {
       "schema": {
        "$ref": "#/components/schemas/GraphQlRequest"
       }
      },
      "application/x-www-form-urlencoded": {
       "schema": {
        "$ref": "#/components/schemas/GraphQlRequest"
       }
      }
     }
    },
    "responses": {
     "200": {
      "description": "data and errors",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/GraphQlResponse"
        }
       }
      }
     },
     "400": {
      "description": "a request that is not GraphQL, or a query that does not parse or validate",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/GraphQlResponse"
        }
       }
      }
     },
     "401": {
      "description": "no token, or a wrong one",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/GraphQlResponse"
        }
       }
      }
     },
     "415": {
      "description": "a body of another type",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/GraphQlResponse"
        }
       }
      }
     }
    }
   }
  }
 },
 "components": {
  "securitySchemes": {
   "bearer": {
    "type": "http",
    "scheme": "bearer",
    "description": "a token from the gateway's --tokens_file"
   }
  },
  "schemas": {
   "Error": {
    "type": "object",
    "required": [
     "error"
    ],
    "properties": {
     "error": {
      "type": "string",
      "description": "what was wrong, for people"
     }
    }
   },
   "Time": {
    "type": [
     "string",
     "null"
    ],
    "format": "date-time"
   },
   "Strategy": {
    "type": "string",
    "enum": [
     "OnJobCompletion",
     "OnJobDeletion",
     "OnJobSuccess",
     "OnJobFailure",
     "Never",
     "OnTtlExpiry"
    ],
    "description": "a GC strategy (the CLI's snake_case spellings are accepted too)"
   },
   "NewJob": {
    "type": "object",
    "properties": {
     "compendium_id": {
      "type": "string"
     },
     "name": {
      "type": "string"
     },
     "group": {
      "type": "string"
     },
     "gc_strategy": {
      "$ref": "#/components/schemas/Strategy"
     },
     "force_finalizer_removal": {
      "type": "boolean"
     }
    },
    "additionalProperties": {
     "type": "string"
    }
   },
   "JobList": {
    "type": "object",
    "required": [
     "results"
    ],
    "properties": {
     "results": {
      "type": "array",
      "items": {
       "oneOf": [
        {
         "type": "string"
        },
        {
         "type": "object",
         "required": [
          "id"
         ],
         "properties": {
          "id": {
           "type": "string"
          },
          "status": {
           "type": "string"
          }
         }
        }
       ]
      }
     },
     "next": {
      "type": "string"
     },
     "previous": {
      "type": "string"
     }
    }
   },
   "Step": {
    "type": "object",
    "properties": {
     "status": {
      "type": "string"
     },
     "start": {
      "$ref": "#/components/schemas/Time"
     },
     "end": {
      "$ref": "#/components/schemas/Time"
     },
     "text": {
      "type": "string"
     }
    }
   },
   "Job": {
    "type": "object",
    "required": [
     "id",
     "status",
     "group"
    ],
    "properties": {
     "id": {
      "type": "string"
     },
     "compendium_id": {
      "type": "string"
     },
     "creation_date": {
      "$ref": "#/components/schemas/Time"
     },
     "status": {
      "type": "string",
      "enum": [
       "queued",
       "running",
       "success",
       "failure"
      ]
     },
     "group": {
      "type": "string"
     },
     "name": {
      "type": "string"
     },
     "command": {
      "type": "string"
     },
     "labels": {
      "type": "object",
      "additionalProperties": {
       "type": "string"
      }
     },
     "finished_at": {
      "$ref": "#/components/schemas/Time"
     },
     "gc_strategy": {
      "$ref": "#/components/schemas/Strategy"
     },
     "gc_rules": {
      "type": "array",
      "items": {
       "type": "object"
      }
     },
     "force_finalizer_removal": {
      "type": "boolean"
     },
     "finalizers": {
      "type": "array",
      "items": {
       "type": "string"
      }
     },
     "conditions": {
      "type": "array",
      "items": {
       "type": "object"
      }
     },
     "deletion_requested_at": {
      "$ref": "#/components/schemas/Time"
     }
    }
   },
   "JobDetail": {
    "allOf": [
     {
      "$ref": "#/components/schemas/Job"
     },
     {
      "type": "object",
      "properties": {
       "steps": {
        "type": "object",
        "additionalProperties": {
         "$ref": "#/components/schemas/Step"
        }
       },
       "files": {
        "$ref": "#/components/schemas/TreeNode"
       },
       "logs": {
        "type": "array",
        "items": {
         "type": "object",
         "properties": {
          "path": {
           "type": "string"
          },
          "size": {
           "type": "integer"
          },
          "downloadUrl": {
           "type": "string"
          }
         }
        }
       }
      }
     }
    ]
   },
   "TreeNode": {
    "type": "object",
    "required": [
     "path",
     "name",
     "type",
     "size"
    ],
    "properties": {
     "path": {
      "type": "string",
      "description": "a URL: the file's download, or the folder's"
     },
     "name": {
      "type": "string"
     },
     "type": {
      "enum": [
       "directory",
       "file"
      ]
     },
     "size": {
      "type": "integer"
     },
     "lastModified": {
      "$ref": "#/components/schemas/Time"
     },
     "children": {
      "type": "array",
      "items": {
       "$ref": "#/components/schemas/TreeNode"
      }
     }
    }
   },
   "File": {
    "type": "object",
    "required": [
     "path",
     "size",
     "sha256",
     "state"
    ],
    "properties": {
     "path": {
      "type": "string"
     },
     "size": {
      "type": "integer"
     },
     "sha256": {
      "type": "string"
     },
     "lastModified": {
      "$ref": "#/components/schemas/Time"
     },
     "privacyLevel": {
      "enum": [
       "moderately_sensitive",
       "highly_sensitive"
      ]
     },
     "expiresAt": {
      "$ref": "#/components/schemas/Time"
     },
     "gcStrategy": {
      "$ref": "#/components/schemas/Strategy"
     },
     "state": {
      "enum": [
       "available",
       "deleted"
      ]
     },
     "downloadUrl": {
      "type": "string"
     }
    }
   },
   "Deleted": {
    "type": "object",
    "properties": {
     "id": {
      "type": "string"
     },
     "purged": {
      "type": "boolean"
     },
     "pending_finalizers": {
      "type": "array",
      "items": {
       "type": "string"
      }
     },
     "note": {
      "type": "string"
     }
    }
   },
   "JobArtifact": {
    "type": "object",
    "required": [
     "name",
     "version"
    ],
    "description": "Mantis's JobArtifact; unknown properties are ignored",
    "properties": {
     "artifactID": {
      "oneOf": [
       {
        "type": "string"
       },
       {
        "type": "object",
        "properties": {
         "resourceID": {
          "type": "string"
         }
        }
       }
      ]
     },
     "name": {
      "type": "string"
     },
     "version": {
      "type": "string"
     },
     "createdAt": {
      "oneOf": [
       {
        "type": "string",
        "format": "date-time"
       },
       {
        "type": "number",
        "description": "milliseconds since 1970"
       }
      ]
     },
     "runtimeType": {
      "type": "string"
     },
     "dependencies": {
      "type": "object",
      "additionalProperties": {
       "type": "string"
      }
     },
     "entrypoint": {
      "type": "string"
     },
     "tags": {
      "type": "object",
      "additionalProperties": {
       "type": "string"
      }
     },
     "revision": {
      "type": "integer"
     }
    }
   },
   "Registered": {
    "type": "object",
    "required": [
     "resourceID"
    ],
    "properties": {
     "resourceID": {
      "type": "string"
     },
     "revision": {
      "type": "integer"
     }
    }
   },
   "GraphQlRequest": {
    "type": "object",
    "required": [
     "query"
    ],
    "properties": {
     "query": {
      "type": "string"
     },
     "variables": {
      "type": [
       "object",
       "null"
      ]
     },
     "operationName": {
      "type": [
       "string",
       "null"
      ]
     }
    }
   },
   "GraphQlResponse": {
    "type": "object",
    "properties": {
     "data": {
      "type": [
       "object",
       "null"
      ]
     },
     "errors": {
      "type": "array",
      "items": {
       "type": "object",
       "required": [
        "message"
       ],
       "properties": {
        "message": {
         "type": "string"
        },
        "path": {
         "type": "array"
        },
        "locations": {
         "type": "array"
        },
        "extensions": {
         "type": "object",
         "properties": {
          "code": {
           "type": "string"
          }
         }
        }
       }
      }
     }
    }
   }
  },
  "responses": {
   "BadRequest": {
    "description": "a bad parameter or body, and what was wrong",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   },
   "Unauthorized": {
    "description": "no token, or a wrong one",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   },
   "Forbidden": {
    "description": "the token's role does not allow this",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   },
   "NotFound": {
    "description": "no such job, artifact or file, or one the caller may not see",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   },
   "Unavailable": {
    "description": "a backend the gateway needs is unavailable; try again",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   },
   "FileBytes": {
    "description": "the file's bytes",
    "headers": {
     "ETag": {
      "schema": {
       "type": "string"
      },
      "description": "\"<sha256>\""
     },
     "Content-Range": {
      "schema": {
       "type": "string"
      },
      "description": "on 206: bytes a-b/size"
     },
     "Content-Disposition": {
      "schema": {
       "type": "string"
      }
     }
    },
    "content": {
     "application/octet-stream": {
      "schema": {
       "type": "string",
       "format": "binary"
      }
     }
    }
   },
   "FilePart": {
    "description": "the Range asked for",
    "headers": {
     "ETag": {
      "schema": {
       "type": "string"
      },
      "description": "\"<sha256>\""
     },
     "Content-Range": {
      "schema": {
       "type": "string"
      },
      "description": "on 206: bytes a-b/size"
     },
     "Content-Disposition": {
      "schema": {
       "type": "string"
      }
     }
    },
    "content": {
     "application/octet-stream": {
      "schema": {
       "type": "string",
       "format": "binary"
      }
     }
    }
   },
   "NotModified": {
    "description": "not modified (If-None-Match)"
   },
   "Presigned": {
    "description": "with --presign_downloads: a presigned URL of the object store in Location"
   },
   "RangeNotSatisfiable": {
    "description": "a Range past the end (Content-Range: bytes */size)",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   },
   "DataLoss": {
    "description": "DATA_LOSS: the stored bytes failed their check",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   },
   "FileHead": {
    "description": "the file's bytes",
    "headers": {
     "ETag": {
      "schema": {
       "type": "string"
      },
      "description": "\"<sha256>\""
     },
     "Content-Range": {
      "schema": {
       "type": "string"
      },
      "description": "on 206: bytes a-b/size"
     },
     "Content-Disposition": {
      "schema": {
       "type": "string"
      }
     }
    }
   },
   "FilePartHead": {
    "description": "the Range asked for",
    "headers": {
     "ETag": {
      "schema": {
       "type": "string"
      },
      "description": "\"<sha256>\""
     },
     "Content-Range": {
      "schema": {
       "type": "string"
      },
      "description": "on 206: bytes a-b/size"
     },
     "Content-Disposition": {
      "schema": {
       "type": "string"
      }
     }
    }
   }
  },
  "parameters": {
   "JobId": {
    "name": "id",
    "in": "path",
    "required": true,
    "schema": {
     "type": "string"
    },
    "description": "the job's id"
   },
   "FilePath": {
    "name": "path",
    "in": "path",
    "required": true,
    "schema": {
     "type": "string"
    },
    "description": "the file's path in the job, '/' kept (percent-encode other reserved characters)"
   },
   "Range": {
    "name": "Range",
    "in": "header",
    "schema": {
     "type": "string"
    },
    "description": "bytes=a-b, bytes=a- or bytes=-n"
   },
   "IfNoneMatch": {
    "name": "If-None-Match",
    "in": "header",
    "schema": {
     "type": "string"
    },
    "description": "the ETag: 304 if it still matches"
   },
   "Group": {
    "name": "group",
    "in": "path",
    "required": true,
    "schema": {
     "type": "string"
    },
    "description": "the job's group (or as PrimeHub's SDK writes it: lower case, '-' for '_')"
   }
  }
 }
})json";

}  // namespace

absl::Status Gateway::Impl::OpenApi(Request& req) {
  http::HttpResponse r;
  r.route = req.route;
  r.headers = {{"Content-Type", "application/json"}, {"Cache-Control", "no-cache"}};
  r.body = kOpenApi;
  req.out.Send(std::move(r));
  return absl::OkStatus();
}

}  // namespace arca::gateway
