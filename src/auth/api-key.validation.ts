import { AppException, FieldError } from '../common/app.exception';
import { isValidPermission } from './permission.policy';

/** A valid request to create an API key. */
export interface CreateApiKeyInput {
  /** 1..100 characters after trimming. */
  name: string;
  /** `admin` or `<module>:<read|create|update|delete>`; duplicates removed. */
  permissions: string[];
}

const NAME_MAX_LENGTH = 100;
const PERMISSIONS_MAX_COUNT = 500;
const PERMISSION_SHAPE = '"admin" or "<module>:<read|create|update|delete>" (module may be "*")';

/**
 * Checks untrusted input for {@link CreateApiKeyInput} and reports every problem at once
 * as a 422 `api_key_invalid` {@link AppException}.
 */
export function validateCreateApiKeyInput(input: unknown): CreateApiKeyInput {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new AppException(
      'bad_request',
      'invalid_body',
      'The request body must be a JSON object like {"name": "Webshop", "permissions": ["contacts:read"]}.',
    );
  }
  const body = input as Record<string, unknown>;
  const errors: FieldError[] = [];

  for (const field of Object.keys(body)) {
    if (field !== 'name' && field !== 'permissions') {
      errors.push({
        field,
        code: 'unknown_field',
        message: `"${field}" is not a property of an API key; send only "name" and "permissions".`,
      });
    }
  }

  let name = '';
  if (body.name === undefined || body.name === null) {
    errors.push({ field: 'name', code: 'required', message: 'name is required: a label (1 to 100 characters) saying who uses the key.' });
  } else if (typeof body.name !== 'string') {
    errors.push({ field: 'name', code: 'invalid_type', message: `name must be a string, got ${describe(body.name)}.` });
  } else {
    name = body.name.trim();
    if (name.length === 0) errors.push({ field: 'name', code: 'required', message: 'name must not be empty.' });
    if (name.length > NAME_MAX_LENGTH) {
      errors.push({ field: 'name', code: 'too_long', message: `name must be at most ${NAME_MAX_LENGTH} characters, got ${name.length}.` });
    }
  }

  const permissions: string[] = [];
  if (body.permissions === undefined || body.permissions === null) {
    errors.push({ field: 'permissions', code: 'required', message: `permissions is required: an array of ${PERMISSION_SHAPE}.` });
  } else if (!Array.isArray(body.permissions)) {
    errors.push({
      field: 'permissions',
      code: 'invalid_type',
      message: `permissions must be an array, got ${describe(body.permissions)}.`,
    });
  } else if (body.permissions.length > PERMISSIONS_MAX_COUNT) {
    errors.push({ field: 'permissions', code: 'too_long', message: `permissions may hold at most ${PERMISSIONS_MAX_COUNT} entries.` });
  } else {
    body.permissions.forEach((permission: unknown, index) => {
      const field = `permissions[${index}]`;
      if (typeof permission !== 'string') {
        errors.push({ field, code: 'invalid_type', message: `${field} must be a string, got ${describe(permission)}.` });
      } else if (!isValidPermission(permission)) {
        errors.push({
          field,
          code: 'invalid_permission',
          message: `"${truncate(permission)}" is not a permission: use ${PERMISSION_SHAPE}.`,
        });
      } else if (!permissions.includes(permission)) {
        permissions.push(permission);
      }
    });
  }

  if (errors.length > 0) {
    throw new AppException(
      'validation',
      'api_key_invalid',
      `The API key cannot be created: ${errors.length} problem(s), listed in "errors".`,
      errors,
    );
  }
  return { name, permissions };
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

// Echoing a megabyte of garbage back in an error helps nobody.
function truncate(text: string): string {
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}
