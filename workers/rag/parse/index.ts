export { parseDocument } from "./parse-document";
export {
  isSupportedMimeType,
  normaliseMimeType,
  type PageSpan,
  type ParsedDocument,
  type Section,
  SUPPORTED_MIME_TYPES,
  type SupportedMimeType,
  UnparseableDocumentError,
} from "./types";
