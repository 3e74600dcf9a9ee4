/**
 * The AWS SDK calls a bundle's own code makes, read from its source (the files esbuild put
 * into the bundle, tree-shaken parts left out), and the IAM actions each call needs: the
 * constraint test holds every function's policy to them, so a new call without its
 * permission fails the test. The table below is this test's own knowledge of IAM (AWS's
 * "Actions, resources and condition keys" pages), not a copy of infra/policies.ts.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

export interface SdkCall {
  /** `loader/s3/objects.ts:25` */
  where: string;
  /** `GetObjectCommand`, `Upload` */
  command: string;
  /** The names of the properties of its input object. */
  props: string[];
  /** For CopyObjectCommand: whether the copy source may name a version. */
  sourceMayHaveVersion: boolean;
}

export interface Need {
  action: string;
  /** What the action applies to: an object of the drop bucket, the bucket itself, or an ARN the policy names. */
  on: 'bucket-object' | 'bucket' | 'secret' | 'function';
  call: SdkCall;
}

/** Every `new <X>Command(...)` and `new Upload(...)` in `files` (paths relative to `root`). */
export function sdkCalls(root: string, files: string[]): SdkCall[] {
  const calls: SdkCall[] = [];
  for (const file of files.filter((f) => /\.[cm]?[jt]s$/.test(f) && !f.includes('node_modules/'))) {
    const text = readFileSync(path.join(root, file), 'utf8');
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      if (ts.isNewExpression(node)) {
        const name = ts.isPropertyAccessExpression(node.expression) ? node.expression.name.text : node.expression.getText(source);
        if (/Command$/.test(name) || name === 'Upload') {
          const arg = node.arguments?.[0];
          const props: string[] = [];
          let sourceMayHaveVersion = false;
          if (arg && ts.isObjectLiteralExpression(arg)) {
            for (const p of arg.properties) {
              const key = p.name && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name)) ? p.name.text : undefined;
              if (key) props.push(key);
              if (key === 'CopySource' && ts.isPropertyAssignment(p)) {
                const v = p.initializer;
                // Only a literal that names no version is known to need no GetObjectVersion.
                sourceMayHaveVersion = !(ts.isStringLiteral(v) || ts.isNoSubstitutionTemplateLiteral(v)) || /versionId=/.test(v.text);
              }
            }
          } else if (arg) {
            props.push('<not an object literal>');
            sourceMayHaveVersion = true;
          }
          const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
          calls.push({ where: `${file}:${line}`, command: name, props, sourceMayHaveVersion });
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return calls;
}

/** The IAM actions of one SDK call; throws for a call this table does not know. */
export function needsOf(call: SdkCall): Need[] {
  const versioned = call.props.includes('VersionId') || call.props.includes('<not an object literal>');
  const need = (action: string, on: Need['on']): Need => ({ action, on, call });
  switch (call.command) {
    case 'GetObjectCommand':
    case 'HeadObjectCommand':
      // A request that names a version is authorised as s3:GetObjectVersion.
      return [need('s3:GetObject', 'bucket-object'), ...(versioned ? [need('s3:GetObjectVersion', 'bucket-object')] : [])];
    case 'ListObjectsV2Command':
      return [need('s3:ListBucket', 'bucket')];
    case 'PutObjectCommand':
      return [need('s3:PutObject', 'bucket-object')];
    case 'CopyObjectCommand':
      // The destination is written; the source is read (by version when the source names one).
      return [
        need('s3:PutObject', 'bucket-object'),
        need('s3:GetObject', 'bucket-object'),
        ...(call.sourceMayHaveVersion ? [need('s3:GetObjectVersion', 'bucket-object')] : []),
      ];
    case 'Upload':
      // lib-storage: PutObject, or a multipart upload it aborts on failure.
      return [need('s3:PutObject', 'bucket-object'), need('s3:AbortMultipartUpload', 'bucket-object')];
    case 'InvokeCommand':
      return [need('lambda:InvokeFunction', 'function')];
    case 'GetSecretValueCommand':
      return [need('secretsmanager:GetSecretValue', 'secret')];
    default:
      throw new Error(
        `${call.where}: ${call.command} is an AWS SDK call the constraint test does not know: add the IAM actions it needs to test/infra/support/sdk-calls.ts, and to the function's policy in infra/policies.ts`,
      );
  }
}
