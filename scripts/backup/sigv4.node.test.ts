import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { EMPTY_SHA256, signRequest, uriEncode } from "./sigv4.ts";

// The example credentials and requests of AWS's "Signature Calculations for the Authorization
// Header" page (docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html).
const AWS_EXAMPLE = {
  accessKeyId: "AKIAIOSFODNN7EXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
  region: "us-east-1",
};
const AWS_EXAMPLE_TIME = new Date("2013-05-24T00:00:00Z");

describe("signRequest", () => {
  it("reproduces AWS's GET Object example (extra signed header, virtual-hosted style)", () => {
    const headers = signRequest(
      {
        method: "GET",
        url: new URL("https://examplebucket.s3.amazonaws.com/test.txt"),
        headers: { Range: "bytes=0-9" },
        payloadSha256: EMPTY_SHA256,
      },
      AWS_EXAMPLE,
      AWS_EXAMPLE_TIME,
    );
    expect(headers.authorization).toBe(
      "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, " +
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, " +
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
    );
    expect(headers).toMatchObject({
      host: "examplebucket.s3.amazonaws.com",
      range: "bytes=0-9",
      "x-amz-date": "20130524T000000Z",
      "x-amz-content-sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    });
  });

  it("reproduces AWS's list example (query parameters sorted and encoded)", () => {
    const headers = signRequest(
      {
        method: "GET",
        url: new URL("https://examplebucket.s3.amazonaws.com/?max-keys=2&prefix=J"),
        payloadSha256: EMPTY_SHA256,
      },
      AWS_EXAMPLE,
      AWS_EXAMPLE_TIME,
    );
    expect(headers.authorization).toMatch(
      /Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7$/,
    );
  });

  it("signs the payload hash, so another body gets another signature", () => {
    const sign = (body: string) =>
      signRequest(
        {
          method: "PUT",
          url: new URL("http://127.0.0.1:9000/backups/meridian/a.dump"),
          payloadSha256: createHash("sha256").update(body).digest("hex"),
        },
        { ...AWS_EXAMPLE, region: "auto" },
        AWS_EXAMPLE_TIME,
      ).authorization;
    expect(sign("one")).not.toBe(sign("two"));
    expect(sign("one")).toContain("/20130524/auto/s3/aws4_request");
  });

  it("encodes as RFC 3986 wants, including the characters encodeURIComponent leaves", () => {
    expect(uriEncode("a b+c/d~e_f.g-h!'()*")).toBe("a%20b%2Bc%2Fd~e_f.g-h%21%27%28%29%2A");
  });
});
