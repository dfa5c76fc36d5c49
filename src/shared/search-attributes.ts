import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const DroverStatus = defineSearchAttributeKey('DroverStatus', SearchAttributeType.KEYWORD);
export const DroverRepo = defineSearchAttributeKey('DroverRepo', SearchAttributeType.KEYWORD);
export const DroverAgent = defineSearchAttributeKey('DroverAgent', SearchAttributeType.KEYWORD);

/** Registered on every server Drover starts or connects to for `dev`; all Keyword. */
export const SEARCH_ATTRIBUTE_NAMES = [DroverStatus.name, DroverRepo.name, DroverAgent.name] as const;
