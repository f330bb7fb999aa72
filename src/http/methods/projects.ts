import { z } from 'zod';
import { DEFAULT_WORKSPACE_ID } from '../../catalog/types.ts';
import { AppError, notFound } from '../../errors.ts';
import { defineMethod } from '../api-method.ts';
import { listShape, pageReply, toListQuery } from '../pagination.ts';
import { datasetInfo, projectInfo } from '../wire.ts';
import { id, jsonObject, wireBool } from '../wire-types.ts';
import { STOWAGE_VERSION } from '../../version.ts';

/** `instance.version`: the SDK's version probe. */
export const instanceVersion = defineMethod({
  name: 'instance.version',
  verbs: ['GET', 'POST'],
  handle: async () => ({ version: STOWAGE_VERSION, name: 'stowage' }),
});

const projectsInfo = defineMethod({
  name: 'projects.info',
  input: z.object({ id }),
  handle: async ({ input, services }) => {
    const p = await services.catalog.projects.get(input.id);
    if (p === undefined) throw notFound('project', input.id);
    return projectInfo(p);
  },
});

const projectsAdd = defineMethod({
  name: 'projects.add',
  input: z.object({
    name: z.string().trim().min(1, 'name must not be empty').max(255),
    workspaceId: id.default(DEFAULT_WORKSPACE_ID),
    description: z.string().max(10_000).default(''),
    type: z.enum(['images', 'videos'], { message: 'Stowage stores projects of type images or videos' }).default('images'),
    readme: z.string().default(''),
    settings: jsonObject.default({}),
    customData: jsonObject.default({}),
  }),
  handle: async ({ input, services, principal }) => {
    if (input.workspaceId !== DEFAULT_WORKSPACE_ID) throw notFound('workspace', input.workspaceId);
    const p = await services.catalog.projects.create({ ...input, createdBy: principal.keyId > 0 ? principal.keyId : null });
    return projectInfo(p);
  },
});

const projectsList = defineMethod({
  name: 'projects.list',
  input: z.object({ ...listShape, workspaceId: id.optional(), groupId: id.optional(), teamId: id.optional() }),
  handle: async ({ input, services }) => {
    const q = toListQuery(input);
    const teamId = input.groupId ?? input.teamId;
    const result = await services.catalog.projects.list({
      ...q,
      ...(input.workspaceId === undefined ? {} : { workspaceId: input.workspaceId }),
      ...(teamId === undefined ? {} : { teamId }),
    });
    return pageReply(input, q, result, projectInfo);
  },
});

const datasetsInfo = defineMethod({
  name: 'datasets.info',
  input: z.object({ id }),
  handle: async ({ input, services }) => {
    const d = await services.catalog.datasets.get(input.id);
    if (d === undefined) throw notFound('dataset', input.id);
    return datasetInfo(d);
  },
});

const datasetsAdd = defineMethod({
  name: 'datasets.add',
  input: z.object({
    projectId: id,
    name: z.string().trim().min(1, 'name must not be empty').max(255),
    description: z.string().max(10_000).default(''),
    parentId: id.nullable().default(null),
    customData: jsonObject.default({}),
  }),
  handle: async ({ input, services, principal }) => {
    if ((await services.catalog.projects.get(input.projectId)) === undefined) throw notFound('project', input.projectId);
    if (input.parentId !== null) {
      const parent = await services.catalog.datasets.get(input.parentId);
      if (parent === undefined) throw notFound('dataset', input.parentId);
      if (parent.projectId !== input.projectId) {
        throw new AppError('InvalidInput', `parentId: dataset ${input.parentId} belongs to another project`, { field: 'parentId' });
      }
    }
    const d = await services.catalog.datasets.create({ ...input, createdBy: principal.keyId > 0 ? principal.keyId : null });
    return datasetInfo(d);
  },
});

const datasetsList = defineMethod({
  name: 'datasets.list',
  input: z.object({ ...listShape, projectId: id, recursive: wireBool.default(false) }),
  handle: async ({ input, services }) => {
    if ((await services.catalog.projects.get(input.projectId)) === undefined) throw notFound('project', input.projectId);
    const q = toListQuery(input);
    const result = await services.catalog.datasets.list({ ...q, projectId: input.projectId, recursive: input.recursive });
    return pageReply(input, q, result, datasetInfo);
  },
});

/** Projects, datasets and the instance probe. */
export const projectMethods = [instanceVersion, projectsInfo, projectsAdd, projectsList, datasetsInfo, datasetsAdd, datasetsList];
