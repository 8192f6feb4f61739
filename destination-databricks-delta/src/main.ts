#!/usr/bin/env node
import { main } from "@cdc-delta/shared";
import { destinationDefinition } from "./definition.js";
import { limitHeapGrowth } from "./heap.js";

limitHeapGrowth();
main(destinationDefinition);
